// Tidy CSV output, written atomically.
//
// Rows go to "<path>.tmp" and the file is renamed to <path> by Commit(): a reader never sees a
// half-written result file, and a run that fails leaves no file at all. Floats are written in the
// shortest form that round-trips (std::to_chars), so reruns are byte-identical and diffable.
#ifndef SLSIM_COMMON_CSV_WRITER_H
#define SLSIM_COMMON_CSV_WRITER_H

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace slsim
{

/// Shortest round-trip text of a double ("0.1", "1e-07", "nan", "inf").
std::string FormatDouble(double v);

/// Writes `content` to `path` through a temporary file and an atomic rename. Throws InputError
/// naming the file when it cannot be written.
void WriteFileAtomic(const std::string& path, const std::string& content);

class CsvWriter
{
  public:
    CsvWriter(const std::string& path, const std::vector<std::string>& columns);
    ~CsvWriter(); // removes the temporary file if Commit() was not called
    CsvWriter(const CsvWriter&) = delete;
    CsvWriter& operator=(const CsvWriter&) = delete;

    CsvWriter& Add(double v);
    CsvWriter& Add(int64_t v);
    CsvWriter& Add(uint64_t v);
    CsvWriter& Add(int v)
    {
        return Add(static_cast<int64_t>(v));
    }
    CsvWriter& Add(const std::string& v); // quoted when it holds a comma, quote or newline
    CsvWriter& Add(const char* v)
    {
        return Add(std::string(v));
    }
    /// Ends the row; asserts the number of fields matches the header.
    void EndRow();
    /// Flushes and renames the temporary file to its final name.
    void Commit();

    const std::string& Path() const
    {
        return m_path;
    }

  private:
    void Separator();

    std::string m_path;
    std::string m_tmpPath;
    std::ofstream m_out;
    size_t m_columns;
    size_t m_field = 0;
    bool m_committed = false;
};

} // namespace slsim

#endif
