// Reading back the small CSV files slsim writes (common/csv-writer.h) or is given.
#ifndef SLSIM_COMMON_CSV_READER_H
#define SLSIM_COMMON_CSV_READER_H

#include <string>
#include <vector>

namespace slsim
{

/// Rows of a CSV text (RFC 4180 quoting; "\r\n" or "\n" line ends; no row for a final newline).
std::vector<std::vector<std::string>> ParseCsv(const std::string& text);

} // namespace slsim

#endif
