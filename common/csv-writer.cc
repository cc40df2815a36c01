#include "common/csv-writer.h"

#include "common/error.h"

#include <charconv>
#include <cmath>

namespace slsim
{
namespace
{

template <typename Int>
std::string_view
FormatInteger(char (&buf)[24], Int v)
{
    const auto res = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string_view(buf, static_cast<size_t>(res.ptr - buf));
}

} // namespace

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

CsvWriter::CsvWriter(const std::string& path, const std::vector<std::string>& columns)
    : m_file(path),
      m_columns(columns.size())
{
    for (const auto& c : columns)
    {
        Add(c);
    }
    EndRow();
}

void
CsvWriter::Separator()
{
    if (m_field++ > 0)
    {
        m_file.Write(",");
    }
}

CsvWriter&
CsvWriter::Add(double v)
{
    Separator();
    m_file.Write(FormatDouble(v));
    return *this;
}

CsvWriter&
CsvWriter::Add(int64_t v)
{
    Separator();
    char buf[24];
    m_file.Write(FormatInteger(buf, v));
    return *this;
}

CsvWriter&
CsvWriter::Add(uint64_t v)
{
    Separator();
    char buf[24];
    m_file.Write(FormatInteger(buf, v));
    return *this;
}

CsvWriter&
CsvWriter::Add(const std::string& v)
{
    Separator();
    if (v.find_first_of(",\"\r\n") == std::string::npos)
    {
        m_file.Write(v);
        return *this;
    }
    std::string quoted = "\"";
    for (char c : v)
    {
        if (c == '"')
        {
            quoted += '"'; // RFC 4180: a quote inside a quoted field is doubled
        }
        quoted += c;
    }
    quoted += '"';
    m_file.Write(quoted);
    return *this;
}

void
CsvWriter::EndRow()
{
    SLSIM_ASSERT_MSG(m_field == m_columns, m_file.Path().c_str());
    m_file.Write("\n");
    m_field = 0;
}

void
CsvWriter::Commit()
{
    SLSIM_ASSERT(m_field == 0);
    m_file.Commit();
}

} // namespace slsim
