#include "common/csv-writer.h"

#include "common/error.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace slsim
{

std::string
FormatDouble(double v)
{
    if (std::isnan(v))
    {
        return "nan";
    }
    if (std::isinf(v))
    {
        return v > 0 ? "inf" : "-inf";
    }
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, res.ptr);
}

void
WriteFileAtomic(const std::string& path, const std::string& content)
{
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
        {
            throw InputError(path + ": cannot open for writing");
        }
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        out.flush();
        if (!out)
        {
            std::remove(tmp.c_str());
            throw InputError(path + ": write failed");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
    {
        std::remove(tmp.c_str());
        throw InputError(path + ": cannot rename temporary file into place");
    }
}

CsvWriter::CsvWriter(const std::string& path, const std::vector<std::string>& columns)
    : m_path(path),
      m_tmpPath(path + ".tmp"),
      m_out(m_tmpPath, std::ios::binary | std::ios::trunc),
      m_columns(columns.size())
{
    if (!m_out)
    {
        throw InputError(path + ": cannot open for writing");
    }
    for (const auto& c : columns)
    {
        Add(c);
    }
    EndRow();
}

CsvWriter::~CsvWriter()
{
    if (!m_committed)
    {
        m_out.close();
        std::remove(m_tmpPath.c_str());
    }
}

void
CsvWriter::Separator()
{
    if (m_field++ > 0)
    {
        m_out.put(',');
    }
}

CsvWriter&
CsvWriter::Add(double v)
{
    Separator();
    m_out << FormatDouble(v);
    return *this;
}

CsvWriter&
CsvWriter::Add(int64_t v)
{
    Separator();
    m_out << v;
    return *this;
}

CsvWriter&
CsvWriter::Add(uint64_t v)
{
    Separator();
    m_out << v;
    return *this;
}

CsvWriter&
CsvWriter::Add(const std::string& v)
{
    Separator();
    if (v.find_first_of(",\"\n") == std::string::npos)
    {
        m_out << v;
        return *this;
    }
    m_out.put('"');
    for (char c : v)
    {
        if (c == '"')
        {
            m_out.put('"');
        }
        m_out.put(c);
    }
    m_out.put('"');
    return *this;
}

void
CsvWriter::EndRow()
{
    SLSIM_ASSERT_MSG(m_field == m_columns, m_path.c_str());
    m_out.put('\n');
    m_field = 0;
}

void
CsvWriter::Commit()
{
    SLSIM_ASSERT(m_field == 0);
    m_out.flush();
    if (!m_out)
    {
        throw InputError(m_path + ": write failed");
    }
    m_out.close();
    if (std::rename(m_tmpPath.c_str(), m_path.c_str()) != 0)
    {
        throw InputError(m_path + ": cannot rename temporary file into place");
    }
    m_committed = true;
}

} // namespace slsim
