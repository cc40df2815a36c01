// libFuzzer target: common/'s CSV reader with each option set (the first input byte's low three
// bits), and CsvDouble on every field. Rows must carry increasing line numbers.
#include "common/csv-reader.h"
#include "fuzz/fuzz-file.h"

#include <cstdint>
#include <cstdlib>

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0)
    {
        return 0;
    }
    slsim::CsvOptions o;
    o.comments = (data[0] & 1) != 0;
    o.skipBlankLines = (data[0] & 2) != 0;
    o.trimSpaces = (data[0] & 4) != 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    slsim::ExpectInputErrorOnly([&] {
        const auto rows = slsim::ReadCsv(text, "fuzz.csv", o);
        size_t last = 0;
        for (const auto& row : rows)
        {
            if (row.line <= last)
            {
                std::abort();
            }
            last = row.line;
            for (const auto& f : row.fields)
            {
                slsim::ExpectInputErrorOnly([&] { slsim::CsvDouble(f, "fuzz.csv", row, "c"); });
            }
        }
    });
    return 0;
}
