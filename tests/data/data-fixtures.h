// Helpers that write tiny dataset files in each on-disk format at test time (no licence issues,
// no data/ needed), plus a scratch folder that removes itself.
#ifndef SLSIM_TESTS_DATA_DATA_FIXTURES_H
#define SLSIM_TESTS_DATA_DATA_FIXTURES_H

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>
#include <zlib.h>

namespace slsim
{
namespace test
{

/// A fresh folder under the system temp dir, removed on destruction.
class ScratchDir
{
  public:
    explicit ScratchDir(const std::string& tag)
    {
        static int counter = 0;
        m_path = std::filesystem::temp_directory_path()
                 / ("slsim-data-" + tag + "-" + std::to_string(::getpid()) + "-"
                    + std::to_string(counter++));
        std::filesystem::remove_all(m_path);
        std::filesystem::create_directories(m_path);
    }

    ~ScratchDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }

    std::string File(const std::string& name) const
    {
        return (m_path / name).string();
    }

    std::string Path() const
    {
        return m_path.string();
    }

  private:
    std::filesystem::path m_path;
};

inline void
WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<uint8_t>
Gzip(const std::vector<uint8_t>& in)
{
    z_stream zs{};
    deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    std::vector<uint8_t> out(deflateBound(&zs, static_cast<uLong>(in.size())) + 64);
    zs.next_in = const_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

inline void
PutBe32(std::vector<uint8_t>& b, uint32_t v)
{
    b.push_back(static_cast<uint8_t>(v >> 24));
    b.push_back(static_cast<uint8_t>(v >> 16));
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

/// Image i, pixel p has value (i * 31 + p * 7) % 256: every image distinct and recognisable.
inline uint8_t
PatternPixel(size_t i, size_t p)
{
    return static_cast<uint8_t>((i * 31 + p * 7) % 256);
}

inline std::vector<uint8_t>
IdxImages(uint32_t count, uint32_t rows, uint32_t cols)
{
    std::vector<uint8_t> b;
    PutBe32(b, 2051);
    PutBe32(b, count);
    PutBe32(b, rows);
    PutBe32(b, cols);
    for (size_t i = 0; i < count; ++i)
    {
        for (size_t p = 0; p < size_t{rows} * cols; ++p)
        {
            b.push_back(PatternPixel(i, p));
        }
    }
    return b;
}

inline std::vector<uint8_t>
IdxLabels(const std::vector<uint8_t>& labels)
{
    std::vector<uint8_t> b;
    PutBe32(b, 2049);
    PutBe32(b, static_cast<uint32_t>(labels.size()));
    b.insert(b.end(), labels.begin(), labels.end());
    return b;
}

/// CIFAR-10 records: label, then R, G, B planes; plane c of image i has pixel p = PatternPixel(i,
/// c * 1024 + p).
inline std::vector<uint8_t>
CifarBatch(const std::vector<uint8_t>& labels)
{
    std::vector<uint8_t> b;
    for (size_t i = 0; i < labels.size(); ++i)
    {
        b.push_back(labels[i]);
        for (size_t p = 0; p < 3072; ++p)
        {
            b.push_back(PatternPixel(i, p));
        }
    }
    return b;
}

} // namespace test
} // namespace slsim

#endif
