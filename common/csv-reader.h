// Reading CSV text: the files slsim writes (common/csv-writer.h) and the ones it is given (device
// traces, the sklearn digits file, replayed runs, sweep points).
//
// Dialect: RFC 4180 quoting (a field in double quotes may hold commas, newlines and "" for one
// quote); "\n" or "\r\n" line ends; no row for a final newline. Options add what hand-written
// files need: '#' comment lines, blank lines skipped, spaces around unquoted fields trimmed.
// Every row carries the 1-based line it starts on, and every problem is a CsvError whose message
// starts "<file>:<line>: ", so a user can open the file at the line.
//
// Example: with comments and skipBlankLines, the text
//     # a trace\n
//     device_id,gflops\n
//     \n
//     0,"1.5"\n
// gives two rows: {line 2: "device_id", "gflops"} and {line 4: "0", "1.5"}.
#ifndef SLSIM_COMMON_CSV_READER_H
#define SLSIM_COMMON_CSV_READER_H

#include "common/error.h"

#include <cstddef>
#include <string>
#include <vector>

namespace slsim
{

/// A malformed CSV file, or a bad value in one: names the file and the line.
class CsvError : public InputError
{
  public:
    /// what() is "<file>:<line>: <message>".
    CsvError(const std::string& file, size_t line, const std::string& message);

    const std::string& File() const
    {
        return m_file;
    }

    size_t Line() const
    {
        return m_line;
    }

  private:
    std::string m_file;
    size_t m_line;
};

struct CsvOptions
{
    bool comments = false;       ///< skip lines whose first character is '#'
    bool skipBlankLines = false; ///< skip lines that are empty or only spaces, tabs and "\r"
    bool trimSpaces = false;     ///< strip spaces and tabs around unquoted fields
};

struct CsvRow
{
    size_t line = 0; ///< 1-based line the row starts on
    std::vector<std::string> fields;
};

/// Rows of CSV `text`; `file` names it in errors. Throws CsvError for a quote left open or text
/// between a closing quote and the next comma or line end.
std::vector<CsvRow> ReadCsv(const std::string& text, const std::string& file,
                            const CsvOptions& options = CsvOptions());

/// Reads the file at `path` and parses it (InputError naming the file when it cannot be read).
std::vector<CsvRow> ReadCsvFile(const std::string& path, const CsvOptions& options = CsvOptions());

/// A hand-written file (traces, interval lists): ReadCsvFile with '#' comments, blank lines
/// skipped and spaces trimmed; InputError "<path>: <what> has no header[ (<header>)]" when it
/// holds no row.
std::vector<CsvRow> ReadHandWrittenCsv(const std::string& path, const std::string& what,
                                       const std::string& header = "");

/// The fields of ReadCsv(text, "<csv>") with default options (kept for the callers that need no
/// line numbers).
std::vector<std::vector<std::string>> ParseCsv(const std::string& text);

/// A field as a double (the whole field, as strtod reads it: nan and inf included, as FormatDouble
/// writes them; callers that need a finite value check it); CsvError naming the file,
/// the row's line and `column` otherwise.
double CsvDouble(const std::string& field, const std::string& file, const CsvRow& row,
                 const std::string& column);

} // namespace slsim

#endif
