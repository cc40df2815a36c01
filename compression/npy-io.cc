#include "compression/npy-io.h"

#include "common/csv-writer.h"
#include "common/error.h"
#include "common/one-line.h"

#include <cctype>
#include <cstring>
#include <fstream>
#include <iterator>

namespace slsim
{

namespace
{

constexpr size_t MAX_HEADER = 1 << 20;

[[noreturn]] void
Fail(const std::string& name, const std::string& what)
{
    throw InputError(name + ": not a float32 .npy file: " + OneLine(what));
}

/// Minimal parser of the header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class DictParser
{
  public:
    DictParser(const std::string& text, const std::string& name)
        : m_s(text),
          m_name(name)
    {
    }

    void Parse(std::string& descr, bool& fortran, std::vector<int64_t>& shape, bool& hasShape)
    {
        bool hasDescr = false;
        bool hasFortran = false;
        Expect('{');
        while (true)
        {
            Skip();
            if (Peek() == '}')
            {
                ++m_pos;
                break;
            }
            const std::string key = String();
            Expect(':');
            if (key == "descr")
            {
                descr = String();
                hasDescr = true;
            }
            else if (key == "fortran_order")
            {
                fortran = Bool();
                hasFortran = true;
            }
            else if (key == "shape")
            {
                shape = Tuple();
                hasShape = true;
            }
            else
            {
                Fail(m_name, "unexpected header key '" + key + "'");
            }
            Skip();
            if (Peek() == ',')
            {
                ++m_pos;
            }
            else if (Peek() != '}')
            {
                Fail(m_name, "malformed header dict");
            }
        }
        Skip();
        if (m_pos != m_s.size())
        {
            Fail(m_name, "trailing characters after the header dict");
        }
        if (!hasDescr || !hasFortran || !hasShape)
        {
            Fail(m_name, "header lacks descr, fortran_order or shape");
        }
    }

  private:
    char Peek() const
    {
        return m_pos < m_s.size() ? m_s[m_pos] : '\0';
    }

    void Skip()
    {
        while (m_pos < m_s.size() && std::isspace(static_cast<unsigned char>(m_s[m_pos])))
        {
            ++m_pos;
        }
    }

    void Expect(char c)
    {
        Skip();
        if (Peek() != c)
        {
            Fail(m_name, std::string("malformed header dict (expected '") + c + "')");
        }
        ++m_pos;
    }

    std::string String()
    {
        Skip();
        const char q = Peek();
        if (q != '\'' && q != '"')
        {
            Fail(m_name, "malformed header dict (expected a string)");
        }
        const size_t end = m_s.find(q, m_pos + 1);
        if (end == std::string::npos)
        {
            Fail(m_name, "unterminated string in header");
        }
        std::string v = m_s.substr(m_pos + 1, end - m_pos - 1);
        m_pos = end + 1;
        return v;
    }

    bool Bool()
    {
        Skip();
        if (m_s.compare(m_pos, 4, "True") == 0)
        {
            m_pos += 4;
            return true;
        }
        if (m_s.compare(m_pos, 5, "False") == 0)
        {
            m_pos += 5;
            return false;
        }
        Fail(m_name, "fortran_order must be True or False");
    }

    std::vector<int64_t> Tuple()
    {
        std::vector<int64_t> dims;
        Expect('(');
        while (true)
        {
            Skip();
            if (Peek() == ')')
            {
                ++m_pos;
                return dims;
            }
            if (!std::isdigit(static_cast<unsigned char>(Peek())))
            {
                Fail(m_name, "shape must be a tuple of non-negative integers");
            }
            uint64_t v = 0;
            while (std::isdigit(static_cast<unsigned char>(Peek())))
            {
                v = v * 10 + static_cast<uint64_t>(Peek() - '0');
                if (v > UINT32_MAX)
                {
                    Fail(m_name, "a shape dimension is 2^32 or more");
                }
                ++m_pos;
            }
            dims.push_back(static_cast<int64_t>(v));
            if (dims.size() > 8)
            {
                Fail(m_name, "rank above 8");
            }
            Skip();
            if (Peek() == ',')
            {
                ++m_pos;
            }
            else if (Peek() != ')')
            {
                Fail(m_name, "malformed shape tuple");
            }
        }
    }

    const std::string& m_s;
    const std::string& m_name;
    size_t m_pos = 0;
};

} // namespace

NpyArray
ParseNpy(const uint8_t* b, size_t size, const std::string& name)
{
    if (size < 10 || std::memcmp(b, "\x93NUMPY", 6) != 0)
    {
        Fail(name, "missing the \\x93NUMPY magic");
    }
    const uint8_t major = b[6];
    size_t headerLen;
    size_t at;
    if (major == 1)
    {
        headerLen = static_cast<size_t>(b[8]) | (static_cast<size_t>(b[9]) << 8);
        at = 10;
    }
    else if (major == 2 || major == 3)
    {
        if (size < 12)
        {
            Fail(name, "truncated header");
        }
        headerLen = static_cast<size_t>(b[8]) | (static_cast<size_t>(b[9]) << 8)
                    | (static_cast<size_t>(b[10]) << 16) | (static_cast<size_t>(b[11]) << 24);
        at = 12;
    }
    else
    {
        Fail(name, "unsupported format version " + std::to_string(major));
    }
    if (headerLen > MAX_HEADER || headerLen > size - at)
    {
        Fail(name, "header length " + std::to_string(headerLen) + " exceeds the file");
    }
    const std::string text(reinterpret_cast<const char*>(b + at), headerLen);
    std::string descr;
    bool fortran = false;
    bool hasShape = false;
    std::vector<int64_t> dims;
    DictParser(text, name).Parse(descr, fortran, dims, hasShape);
    if (descr != "<f4")
    {
        Fail(name, "dtype '" + descr + "' (expected '<f4', little-endian float32)");
    }
    if (fortran)
    {
        Fail(name, "fortran_order arrays are not supported (use C order)");
    }
    uint64_t n = 1;
    for (int64_t d : dims)
    {
        n *= static_cast<uint64_t>(d);
        if (n > UINT32_MAX)
        {
            Fail(name, "2^32 or more elements");
        }
    }
    const size_t dataAt = at + headerLen;
    if (size - dataAt != 4 * n)
    {
        Fail(name, "shape (" + Shape(dims).ToString() + ") needs " + std::to_string(4 * n)
                       + " data bytes, file has " + std::to_string(size - dataAt));
    }
    NpyArray a;
    a.shape = Shape(dims);
    a.data.resize(n);
    if (n > 0)
    {
        std::memcpy(a.data.data(), b + dataAt, 4 * n);
    }
    return a;
}

NpyArray
ReadNpy(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        throw InputError(path + ": cannot open for reading");
    }
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    return ParseNpy(bytes.data(), bytes.size(), path);
}

std::vector<uint8_t>
SerializeNpy(const Shape& shape, const float* data)
{
    std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
    for (size_t i = 0; i < shape.dims.size(); ++i)
    {
        dict += std::to_string(shape.dims[i]) + (shape.dims.size() == 1 ? "," : "");
        if (i + 1 < shape.dims.size())
        {
            dict += ", ";
        }
    }
    dict += "), }";
    // Pad with spaces so that magic + version + length + dict + '\n' is a multiple of 64.
    while ((10 + dict.size() + 1) % 64 != 0)
    {
        dict += ' ';
    }
    dict += '\n';
    std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    out.push_back(static_cast<uint8_t>(dict.size()));
    out.push_back(static_cast<uint8_t>(dict.size() >> 8));
    out.insert(out.end(), dict.begin(), dict.end());
    const size_t n = static_cast<size_t>(shape.Numel());
    const size_t at = out.size();
    out.resize(at + 4 * n);
    if (n > 0)
    {
        std::memcpy(out.data() + at, data, 4 * n);
    }
    return out;
}

void
WriteNpy(const std::string& path, const Shape& shape, const float* data)
{
    const std::vector<uint8_t> bytes = SerializeNpy(shape, data);
    WriteFileAtomic(path, std::string(bytes.begin(), bytes.end()));
}

} // namespace slsim
