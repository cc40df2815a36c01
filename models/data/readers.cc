#include "models/data/readers.h"

#include "common/csv-reader.h"
#include "common/error.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <limits>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace slsim
{
namespace
{

// Largest decompressed file we accept: CIFAR-10's batches are 30.7 MB and MNIST's images 47 MB;
// the cap turns a corrupt or hostile gzip stream into an InputError instead of bad_alloc.
constexpr size_t MAX_DECOMPRESSED = size_t{1} << 30;

std::vector<uint8_t>
ReadRaw(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
    }
    std::vector<uint8_t> bytes;
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    if (size < 0)
    {
        throw InputError(path + ": cannot determine the file size");
    }
    in.seekg(0, std::ios::beg);
    bytes.resize(static_cast<size_t>(size));
    if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    {
        throw InputError(path + ": read error");
    }
    return bytes;
}

std::vector<uint8_t>
Gunzip(const std::vector<uint8_t>& in, const std::string& path)
{
    std::vector<uint8_t> out;
    z_stream zs;
    std::memset(&zs, 0, sizeof(zs));
    // 16 + MAX_WBITS: expect a gzip header and trailer (CRC and length are checked by zlib).
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    {
        throw InputError(path + ": zlib initialisation failed");
    }
    zs.next_in = const_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    uint8_t buf[1 << 16];
    while (true)
    {
        zs.next_out = buf;
        zs.avail_out = sizeof(buf);
        const int rc = inflate(&zs, Z_NO_FLUSH);
        out.insert(out.end(), buf, buf + (sizeof(buf) - zs.avail_out));
        if (out.size() > MAX_DECOMPRESSED)
        {
            inflateEnd(&zs);
            throw InputError(path + ": decompressed size exceeds 1 GiB");
        }
        if (rc == Z_STREAM_END)
        {
            // Concatenated gzip members are one file (gzip -c a >> f; gzip -c b >> f).
            if (zs.avail_in > 0 && zs.next_in[0] == 0x1f)
            {
                inflateReset(&zs);
                continue;
            }
            break;
        }
        if (rc == Z_BUF_ERROR && zs.avail_in == 0)
        {
            inflateEnd(&zs);
            throw InputError(path + ": truncated gzip stream");
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR)
        {
            const std::string msg = zs.msg ? zs.msg : "error " + std::to_string(rc);
            inflateEnd(&zs);
            throw InputError(path + ": corrupt gzip stream (" + msg + ")");
        }
    }
    inflateEnd(&zs);
    return out;
}

/// The first `n` bytes of the file's content (fewer if it is shorter), decompressing a gzip file.
std::vector<uint8_t>
ReadPrefix(const std::string& path, size_t n)
{
    gzFile f = ::gzopen(path.c_str(), "rb"); // reads a plain file as it is
    if (f == nullptr)
    {
        throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
    }
    std::vector<uint8_t> b(n);
    const int r = ::gzread(f, b.data(), static_cast<unsigned>(n));
    ::gzclose(f);
    if (r < 0)
    {
        throw InputError(path + ": corrupt gzip stream");
    }
    b.resize(static_cast<size_t>(r));
    return b;
}

uint32_t
GetBe32(const std::vector<uint8_t>& b, size_t at)
{
    return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8)
           | uint32_t{b[at + 3]};
}

/// Checks the IDX header's magic and rank (in the first bytes of the content, `b`) and that the
/// dimensions multiply to at most MAX_DECOMPRESSED; returns the dimensions.
std::vector<uint32_t>
ParseIdxDims(const std::vector<uint8_t>& b, const std::string& path, uint32_t magic,
             const char* what)
{
    const size_t rank = magic & 0xff;
    const size_t header = 4 + 4 * rank;
    if (b.size() < 4)
    {
        throw InputError(path + ": truncated IDX " + what + " file (" + std::to_string(b.size())
                         + " bytes, expected a header of " + std::to_string(header) + ")");
    }
    const uint32_t got = GetBe32(b, 0);
    if (got != magic)
    {
        std::ostringstream os;
        os << path << ": not an IDX " << what << " file (magic " << got << ", expected " << magic
           << ")";
        throw InputError(os.str());
    }
    if (b.size() < header)
    {
        throw InputError(path + ": truncated IDX " + what + " header (" + std::to_string(b.size())
                         + " bytes, expected " + std::to_string(header) + ")");
    }
    std::vector<uint32_t> dims(rank);
    uint64_t total = 1;
    for (size_t i = 0; i < rank; ++i)
    {
        dims[i] = GetBe32(b, 4 + 4 * i);
        total *= dims[i];
        if (total > MAX_DECOMPRESSED)
        {
            throw InputError(path + ": IDX dimensions too large");
        }
    }
    return dims;
}

/// Checks that an IDX file of `dims` holds exactly `contentSize` bytes (header included).
void
CheckIdxSize(const std::vector<uint32_t>& dims, uint64_t contentSize, const std::string& path,
             const char* what)
{
    uint64_t expected = 1;
    for (uint32_t d : dims)
    {
        expected *= d;
    }
    expected += 4 + 4 * dims.size();
    if (contentSize != expected)
    {
        throw InputError(path + ": " + (contentSize < expected ? "truncated" : "oversized")
                         + " IDX " + what + " file (" + std::to_string(contentSize)
                         + " bytes, expected " + std::to_string(expected) + ")");
    }
}

/// Checks the IDX header (magic, rank) and the exact file size; returns the dimensions.
std::vector<uint32_t>
ParseIdxHeader(const std::vector<uint8_t>& b, const std::string& path, uint32_t magic,
               const char* what)
{
    std::vector<uint32_t> dims = ParseIdxDims(b, path, magic, what);
    CheckIdxSize(dims, b.size(), path, what);
    return dims;
}

bool
IsGzip(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    char head[2] = {0, 0};
    return in.read(head, 2) && static_cast<uint8_t>(head[0]) == 0x1f
           && static_cast<uint8_t>(head[1]) == 0x8b;
}

/// Bytes of the file's content: its size, or for a gzip file the decompressed size (streamed,
/// nothing kept; capped at MAX_DECOMPRESSED + 1).
uint64_t
ContentSize(const std::string& path)
{
    if (!IsGzip(path))
    {
        struct stat st;
        if (::stat(path.c_str(), &st) != 0)
        {
            throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
        }
        return static_cast<uint64_t>(st.st_size);
    }
    gzFile f = ::gzopen(path.c_str(), "rb");
    if (f == nullptr)
    {
        throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
    }
    uint64_t total = 0;
    std::vector<char> buf(1 << 16);
    while (total <= MAX_DECOMPRESSED)
    {
        const int r = ::gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
        if (r < 0)
        {
            ::gzclose(f);
            throw InputError(path + ": corrupt gzip stream");
        }
        if (r == 0)
        {
            break;
        }
        total += static_cast<uint64_t>(r);
    }
    ::gzclose(f);
    if (total > MAX_DECOMPRESSED)
    {
        throw InputError(path + ": decompressed size exceeds 1 GiB");
    }
    return total;
}

} // namespace

std::vector<uint8_t>
ReadFileMaybeGzip(const std::string& path)
{
    std::vector<uint8_t> raw = ReadRaw(path);
    if (raw.size() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b)
    {
        return Gunzip(raw, path);
    }
    return raw;
}

void
ReadIdxImages(const std::string& path, Dataset& out)
{
    std::vector<uint8_t> b = ReadFileMaybeGzip(path);
    const std::vector<uint32_t> dims = ParseIdxHeader(b, path, 0x00000803, "images");
    if (dims[1] == 0 || dims[2] == 0)
    {
        throw InputError(path + ": IDX images have a zero dimension");
    }
    out.channels = 1;
    out.height = static_cast<int>(dims[1]);
    out.width = static_cast<int>(dims[2]);
    b.erase(b.begin(), b.begin() + 16);
    out.pixels = std::move(b);
}

void
ReadIdxLabels(const std::string& path, Dataset& out, int classes)
{
    std::vector<uint8_t> b = ReadFileMaybeGzip(path);
    ParseIdxHeader(b, path, 0x00000801, "labels");
    b.erase(b.begin(), b.begin() + 8);
    for (size_t i = 0; i < b.size(); ++i)
    {
        if (b[i] >= classes)
        {
            throw InputError(path + ": label " + std::to_string(b[i]) + " of sample "
                             + std::to_string(i) + " is out of range 0.."
                             + std::to_string(classes - 1));
        }
    }
    out.classes = classes;
    out.labels = std::move(b);
}

Dataset
ReadIdxPair(const std::string& imagesPath, const std::string& labelsPath, const std::string& name)
{
    Dataset d;
    d.name = name;
    ReadIdxImages(imagesPath, d);
    ReadIdxLabels(labelsPath, d);
    const size_t images = d.pixels.size() / d.SampleSize();
    if (images != d.labels.size())
    {
        throw InputError(labelsPath + ": " + std::to_string(d.labels.size()) + " labels but "
                         + imagesPath + " has " + std::to_string(images) + " images");
    }
    return d;
}

void
ReadCifar10Batch(const std::string& path, Dataset& out)
{
    constexpr size_t IMAGE = 3 * 32 * 32;
    constexpr size_t RECORD = 1 + IMAGE;
    const std::vector<uint8_t> b = ReadFileMaybeGzip(path);
    if (b.empty() || b.size() % RECORD != 0)
    {
        throw InputError(path + ": not a CIFAR-10 binary batch (" + std::to_string(b.size())
                         + " bytes, expected a non-zero multiple of " + std::to_string(RECORD)
                         + "; 30730000 for a full batch)");
    }
    const size_t n = b.size() / RECORD;
    out.channels = 3;
    out.height = 32;
    out.width = 32;
    out.classes = 10;
    out.labels.reserve(out.labels.size() + n);
    out.pixels.reserve(out.pixels.size() + n * IMAGE);
    for (size_t i = 0; i < n; ++i)
    {
        const uint8_t* rec = b.data() + i * RECORD;
        if (rec[0] >= 10)
        {
            throw InputError(path + ": record " + std::to_string(i) + " has label "
                             + std::to_string(rec[0]) + " (expected 0..9): not a CIFAR-10 file");
        }
        out.labels.push_back(rec[0]);
        out.pixels.insert(out.pixels.end(), rec + 1, rec + RECORD);
    }
}

bool
ReadCifar10Records(const std::vector<std::string>& paths, const std::vector<uint32_t>& keep,
                   Dataset& out)
{
    constexpr size_t IMAGE = 3 * 32 * 32;
    constexpr size_t RECORD = 1 + IMAGE;
    for (const std::string& path : paths)
    {
        if (IsGzip(path))
        {
            return false;
        }
    }
    out.channels = 3;
    out.height = 32;
    out.width = 32;
    out.classes = 10;
    out.labels.reserve(out.labels.size() + keep.size());
    out.pixels.reserve(out.pixels.size() + keep.size() * IMAGE);
    std::vector<uint8_t> rec(RECORD);
    size_t next = 0;    // the first index of keep not read yet
    uint64_t first = 0; // the index of the current file's first record
    for (const std::string& path : paths)
    {
        const uint64_t size = ContentSize(path);
        if (size == 0 || size % RECORD != 0)
        {
            throw InputError(path + ": not a CIFAR-10 binary batch (" + std::to_string(size)
                             + " bytes, expected a non-zero multiple of " + std::to_string(RECORD)
                             + ")");
        }
        const uint64_t end = first + size / RECORD;
        if (next < keep.size() && keep[next] < end)
        {
            const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0)
            {
                throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
            }
            for (; next < keep.size() && keep[next] < end; ++next)
            {
                const uint64_t i = keep[next] - first;
                if (::pread(fd, rec.data(), RECORD, static_cast<off_t>(i * RECORD))
                    != static_cast<ssize_t>(RECORD))
                {
                    ::close(fd);
                    throw InputError(path + ": read error at record " + std::to_string(i));
                }
                if (rec[0] >= 10)
                {
                    ::close(fd);
                    throw InputError(path + ": record " + std::to_string(i) + " has label "
                                     + std::to_string(rec[0])
                                     + " (expected 0..9): not a CIFAR-10 file");
                }
                out.labels.push_back(rec[0]);
                out.pixels.insert(out.pixels.end(), rec.begin() + 1, rec.end());
            }
            ::close(fd);
        }
        first = end;
    }
    if (next != keep.size())
    {
        throw InputError(paths.back() + ": record " + std::to_string(keep[next])
                         + " past the end of the batches (" + std::to_string(first) + " records)");
    }
    return true;
}

namespace
{

/// One digits field: digits with an optional ".0..." fraction (the sklearn file writes floats such
/// as 0.0 and 15.0); -1 when it is anything else. At most 6 digits, so no overflow.
int
DigitsValue(const std::string& field)
{
    size_t p = 0;
    int v = 0;
    while (p < field.size() && field[p] >= '0' && field[p] <= '9' && p < 6)
    {
        v = v * 10 + (field[p] - '0');
        ++p;
    }
    if (p == 0)
    {
        return -1;
    }
    if (p < field.size() && field[p] == '.')
    {
        ++p;
        while (p < field.size() && field[p] == '0')
        {
            ++p;
        }
    }
    return p == field.size() ? v : -1;
}

} // namespace

Dataset
ReadDigitsCsv(const std::string& path)
{
    const std::vector<uint8_t> b = ReadFileMaybeGzip(path);
    Dataset d;
    d.name = "digits";
    d.channels = 1;
    d.height = 8;
    d.width = 8;
    d.classes = 10;
    CsvOptions options;
    options.comments = true;
    options.skipBlankLines = true;
    options.trimSpaces = true;
    const auto rows = ReadCsv(std::string(b.begin(), b.end()), path, options);
    for (const CsvRow& row : rows)
    {
        if (row.fields.size() > 65)
        {
            throw CsvError(path, row.line, "more than 65 fields (expected 64 pixels and a label)");
        }
        int values[65];
        for (size_t i = 0; i < row.fields.size(); ++i)
        {
            values[i] = DigitsValue(row.fields[i]);
            if (values[i] < 0)
            {
                throw CsvError(path, row.line,
                               "field " + std::to_string(i + 1) + " is not a non-negative integer");
            }
        }
        if (row.fields.size() != 65)
        {
            throw CsvError(path, row.line,
                           std::to_string(row.fields.size())
                               + " fields (expected 64 pixels and a label)");
        }
        for (int i = 0; i < 64; ++i)
        {
            if (values[i] > 16)
            {
                throw CsvError(path, row.line,
                               "pixel " + std::to_string(values[i]) + " out of range 0..16");
            }
            // 0..16 -> 0..255: round(v * 255 / 16), half up (v = 8 gives 127.5 -> 128).
            d.pixels.push_back(static_cast<uint8_t>((values[i] * 255 + 8) / 16));
        }
        if (values[64] > 9)
        {
            throw CsvError(path, row.line,
                           "label " + std::to_string(values[64]) + " out of range 0..9");
        }
        d.labels.push_back(static_cast<uint8_t>(values[64]));
    }
    if (d.labels.empty())
    {
        throw InputError(path + ": no samples (expected lines of 64 pixels and a label)");
    }
    return d;
}

size_t
InspectIdxPair(const std::string& imagesPath, const std::string& labelsPath, const Shape& sample,
               const std::string& name)
{
    const std::vector<uint32_t> dims
        = ParseIdxDims(ReadPrefix(imagesPath, 16), imagesPath, 0x00000803, "images");
    const Shape got{1, static_cast<int64_t>(dims[1]), static_cast<int64_t>(dims[2])};
    if (!(got == sample))
    {
        throw InputError(imagesPath + ": images are " + got.ToString() + " but " + name
                         + " (the model's input) is " + sample.ToString());
    }
    CheckIdxSize(dims, ContentSize(imagesPath), imagesPath, "images");
    const std::vector<uint32_t> labelDims
        = ParseIdxDims(ReadPrefix(labelsPath, 8), labelsPath, 0x00000801, "labels");
    if (labelDims[0] != dims[0])
    {
        throw InputError(labelsPath + ": " + std::to_string(labelDims[0]) + " labels but "
                         + imagesPath + " has " + std::to_string(dims[0]) + " images");
    }
    CheckIdxSize(labelDims, ContentSize(labelsPath), labelsPath, "labels");
    Dataset labels; // one byte per image: small next to the images
    ReadIdxLabels(labelsPath, labels);
    return dims[0];
}

size_t
InspectCifar10Batch(const std::string& path)
{
    constexpr uint64_t RECORD = 1 + 3 * 32 * 32;
    const uint64_t size = ContentSize(path);
    if (size == 0 || size % RECORD != 0)
    {
        throw InputError(path + ": not a CIFAR-10 binary batch (" + std::to_string(size)
                         + " bytes, expected a non-zero multiple of " + std::to_string(RECORD)
                         + "; 30730000 for a full batch)");
    }
    const uint64_t n = size / RECORD;
    if (!IsGzip(path)) // a gzip file's labels are checked when it is read
    {
        // One byte per record (pread: no read-ahead of the pixels through a stream buffer).
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
        {
            throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
        }
        for (uint64_t i = 0; i < n; ++i)
        {
            uint8_t label = 0;
            if (::pread(fd, &label, 1, static_cast<off_t>(i * RECORD)) != 1)
            {
                ::close(fd);
                throw InputError(path + ": read error");
            }
            if (label >= 10)
            {
                ::close(fd);
                throw InputError(path + ": record " + std::to_string(i) + " has label "
                                 + std::to_string(label) + " (expected 0..9): not a CIFAR-10 file");
            }
        }
        ::close(fd);
    }
    return static_cast<size_t>(n);
}

std::string
FindMaybeGz(const std::string& folder, const std::string& base)
{
    const std::string plain = folder + "/" + base;
    const std::string gz = plain + ".gz";
    if (std::ifstream(plain, std::ios::binary))
    {
        return plain;
    }
    if (std::ifstream(gz, std::ios::binary))
    {
        return gz;
    }
    throw InputError(plain + ": missing (nor " + gz + ")");
}

} // namespace slsim
