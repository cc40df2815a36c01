// Tidy CSV output, written atomically.
//
// Rows go to a temporary sibling (common/atomic-file.h) that Commit() renames to <path>: a reader
// never sees a half-written result file, and a run that fails leaves no file at all. Floats are
// written in the shortest form that round-trips (std::to_chars), so reruns are byte-identical and
// diffable; common/csv-reader.h reads them back.
//
// Example: CsvWriter w("x.csv", {"step", "loss", "note"}); w.Add(1).Add(0.1).Add("a,b");
// w.EndRow(); w.Commit(); writes the 27 bytes
//     step,loss,note\n1,0.1,"a,b"\n
#ifndef SLSIM_COMMON_CSV_WRITER_H
#define SLSIM_COMMON_CSV_WRITER_H

#include "common/atomic-file.h"

#include <cstdint>
#include <string>
#include <vector>

namespace slsim
{

/// Shortest round-trip text of a double ("0.1", "1e-07", "nan", "inf").
std::string FormatDouble(double v);

class CsvWriter
{
  public:
    CsvWriter(const std::string& path, const std::vector<std::string>& columns);
    ~CsvWriter() = default; // the temporary file is removed if Commit() was not called
    CsvWriter(const CsvWriter&) = delete;
    CsvWriter& operator=(const CsvWriter&) = delete;

    CsvWriter& Add(double v);
    CsvWriter& Add(int64_t v);
    CsvWriter& Add(uint64_t v);

    CsvWriter& Add(int v)
    {
        return Add(static_cast<int64_t>(v));
    }

    CsvWriter& Add(const std::string& v); // quoted when it holds a comma, quote, CR or LF

    CsvWriter& Add(const char* v)
    {
        return Add(std::string(v));
    }

    /// Ends the row; asserts the number of fields matches the header.
    void EndRow();
    /// Flushes, fsyncs and renames the temporary file to its final name.
    void Commit();

    const std::string& Path() const
    {
        return m_file.Path();
    }

  private:
    void Separator();

    AtomicFile m_file;
    size_t m_columns;
    size_t m_field = 0;
};

} // namespace slsim

#endif
