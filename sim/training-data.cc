#include "sim/training-data.h"

#include "common/error.h"
#include "common/state-io.h"

#include <algorithm>
#include <cmath>

namespace slsim
{

void
RequireFinite(const float* x, size_t n, const std::string& what)
{
    for (size_t i = 0; i < n; ++i)
    {
        if (!std::isfinite(x[i]))
        {
            throw TrainingDiverged(what);
        }
    }
}

ShardCursor::ShardCursor(std::vector<uint32_t> shard, int batchSize, Rng shuffle)
    : m_shard(std::move(shard)),
      m_batchSize(static_cast<size_t>(batchSize)),
      m_shuffle(std::move(shuffle))
{
    m_shuffle.Shuffle(m_shard);
}

int
ShardCursor::StepsPerPass() const
{
    return static_cast<int>((m_shard.size() + m_batchSize - 1) / m_batchSize);
}

const uint32_t*
ShardCursor::Next(size_t& batch)
{
    SLSIM_ASSERT(!m_shard.empty());
    if (m_cursor >= m_shard.size())
    {
        m_cursor = 0;
        m_shuffle.Shuffle(m_shard); // a new pass over the shard
    }
    batch = std::min(m_batchSize, m_shard.size() - m_cursor);
    const uint32_t* first = m_shard.data() + m_cursor;
    m_cursor += batch;
    return first;
}

void
ShardCursor::SaveRunState(ByteWriter& out) const
{
    PutPodVector(out, m_shard);
    PutPod(out, m_cursor);
    PutPod(out, m_shuffle);
}

void
ShardCursor::LoadRunState(ByteReader& in)
{
    GetPodVector(in, m_shard, "shard order", m_shard.size());
    GetPod(in, m_cursor);
    GetPod(in, m_shuffle);
}

} // namespace slsim
