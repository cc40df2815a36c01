#include "common/csv-reader.h"

#include "common/one-line.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <system_error>

namespace slsim
{
namespace
{

bool
IsBlank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/// One line's scan state: the fields so far and whether the current field was quoted.
class RowBuilder
{
  public:
    RowBuilder(const std::string& file, const CsvOptions& options)
        : m_file(file),
          m_options(options)
    {
    }

    /// Parses the row starting at text[pos] (a line that is not a comment or skipped blank);
    /// returns the position after its line end. `line` advances past newlines inside quotes.
    size_t Parse(const std::string& text, size_t pos, size_t& line, CsvRow& row)
    {
        row.line = line;
        row.fields.clear();
        std::string cell;
        bool quotedCell = false; // the current field was quoted (no trimming, nothing after it)
        size_t i = pos;
        while (true)
        {
            if (i == text.size() || text[i] == '\n' || text[i] == ',')
            {
                row.fields.push_back(Finish(cell, quotedCell));
                cell.clear();
                quotedCell = false;
                if (i == text.size())
                {
                    return i;
                }
                if (text[i] == '\n')
                {
                    ++line;
                    return i + 1;
                }
                ++i;
                continue;
            }
            const char ch = text[i];
            if (ch == '"' && !quotedCell && OnlyBlanks(cell))
            {
                const size_t openLine = line;
                cell.clear();
                ++i;
                while (true)
                {
                    if (i == text.size())
                    {
                        throw CsvError(m_file, openLine, "quoted field is not closed");
                    }
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.size() && text[i + 1] == '"')
                        {
                            cell += '"';
                            i += 2;
                            continue;
                        }
                        ++i;
                        break;
                    }
                    if (text[i] == '\n')
                    {
                        ++line;
                    }
                    cell += text[i++];
                }
                quotedCell = true;
                continue;
            }
            if (quotedCell && ch != '\r' && !(m_options.trimSpaces && IsBlank(ch)))
            {
                throw CsvError(m_file, line,
                               std::string("unexpected '") + ch + "' after a closing quote");
            }
            if (ch == '"')
            {
                throw CsvError(m_file, line, "quote inside an unquoted field (quote the field)");
            }
            if (!quotedCell)
            {
                cell += ch;
            }
            ++i;
        }
    }

  private:
    bool OnlyBlanks(const std::string& cell) const
    {
        if (cell.empty())
        {
            return true;
        }
        if (!m_options.trimSpaces)
        {
            return false;
        }
        for (char ch : cell)
        {
            if (!IsBlank(ch))
            {
                return false;
            }
        }
        return true;
    }

    /// The field's text: a "\r" before the line end dropped, blanks trimmed when asked.
    std::string Finish(const std::string& cell, bool quoted) const
    {
        if (quoted)
        {
            return cell;
        }
        size_t end = cell.size();
        if (end > 0 && cell[end - 1] == '\r')
        {
            --end;
        }
        size_t begin = 0;
        if (m_options.trimSpaces)
        {
            while (begin < end && IsBlank(cell[begin]))
            {
                ++begin;
            }
            while (end > begin && IsBlank(cell[end - 1]))
            {
                --end;
            }
        }
        return cell.substr(begin, end - begin);
    }

    const std::string& m_file;
    const CsvOptions& m_options;
};

/// True when the line starting at text[pos] is to be skipped; `next` is set past its line end.
bool
Skipped(const std::string& text, size_t pos, const CsvOptions& options, size_t& next)
{
    if (!options.comments && !options.skipBlankLines)
    {
        return false;
    }
    size_t end = text.find('\n', pos);
    next = end == std::string::npos ? text.size() : end + 1;
    if (end == std::string::npos)
    {
        end = text.size();
    }
    if (options.comments && pos < end && text[pos] == '#')
    {
        return true;
    }
    if (options.skipBlankLines)
    {
        for (size_t i = pos; i < end; ++i)
        {
            if (!IsBlank(text[i]) && text[i] != '\r')
            {
                return false;
            }
        }
        return true;
    }
    return false;
}

} // namespace

CsvError::CsvError(const std::string& file, size_t line, const std::string& message)
    : InputError(file + ":" + std::to_string(line) + ": " + OneLine(message)),
      m_file(file),
      m_line(line)
{
}

std::vector<CsvRow>
ReadCsv(const std::string& text, const std::string& file, const CsvOptions& options)
{
    std::vector<CsvRow> rows;
    RowBuilder builder(file, options);
    size_t pos = 0;
    size_t line = 1;
    while (pos < text.size())
    {
        size_t next = 0;
        if (Skipped(text, pos, options, next))
        {
            pos = next;
            ++line;
            continue;
        }
        CsvRow row;
        pos = builder.Parse(text, pos, line, row);
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<CsvRow>
ReadCsvFile(const std::string& path, const CsvOptions& options)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        throw InputError(path + ": cannot open file");
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
    {
        throw InputError(path + ": read failed");
    }
    return ReadCsv(text.str(), path, options);
}

std::vector<CsvRow>
ReadHandWrittenCsv(const std::string& path, const std::string& what, const std::string& header)
{
    CsvOptions options;
    options.comments = true;
    options.skipBlankLines = true;
    options.trimSpaces = true;
    std::vector<CsvRow> rows = ReadCsvFile(path, options);
    if (rows.empty())
    {
        throw InputError(path + ": " + what + " has no header"
                         + (header.empty() ? "" : " (" + header + ")"));
    }
    return rows;
}

std::vector<std::vector<std::string>>
ParseCsv(const std::string& text)
{
    std::vector<std::vector<std::string>> rows;
    for (CsvRow& row : ReadCsv(text, "<csv>"))
    {
        rows.push_back(std::move(row.fields));
    }
    return rows;
}

double
CsvDouble(const std::string& field, const std::string& file, const CsvRow& row,
          const std::string& column)
{
    // std::from_chars: locale-independent, exact for the shortest round-trip text CsvWriter
    // writes ("0.1", "1e-07", "nan", "inf", "-inf"); the whole field must be the number.
    double v = 0.0;
    const char* begin = field.data();
    const char* end = begin + field.size();
    const auto [ptr, ec] = std::from_chars(begin, end, v);
    if (field.empty() || ec != std::errc() || ptr != end)
    {
        throw CsvError(file, row.line, column + ": not a number: '" + field + "'");
    }
    return v;
}

} // namespace slsim
