// CSV: what CsvWriter writes, CsvReader reads back (shortest round-trip floats, quoting), and the
// reader's dialect options and error lines.
#include "common/csv-reader.h"
#include "common/csv-writer.h"
#include "scratch-dir.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

using namespace slsim;
using slsim::test::ScratchDir;

namespace
{

std::vector<std::vector<std::string>>
Fields(const std::vector<CsvRow>& rows)
{
    std::vector<std::vector<std::string>> out;
    for (const auto& r : rows)
    {
        out.push_back(r.fields);
    }
    return out;
}

std::vector<size_t>
Lines(const std::vector<CsvRow>& rows)
{
    std::vector<size_t> out;
    for (const auto& r : rows)
    {
        out.push_back(r.line);
    }
    return out;
}

/// The message of the CsvError that parsing `text` throws ("" if none).
std::string
ErrorOf(const std::string& text, const CsvOptions& options = CsvOptions())
{
    try
    {
        ReadCsv(text, "t.csv", options);
    }
    catch (const CsvError& e)
    {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("FormatDouble: shortest text that reads back to the same double", "[common][csv]")
{
    CHECK(FormatDouble(0.1) == "0.1");
    CHECK(FormatDouble(1e-7) == "1e-07");
    CHECK(FormatDouble(3.0) == "3");
    CHECK(FormatDouble(-0.0) == "-0");
    CHECK(FormatDouble(1.0 / 3.0) == "0.3333333333333333");
    CHECK(FormatDouble(static_cast<double>(0.1f)) == "0.10000000149011612");
    CHECK(FormatDouble(std::numeric_limits<double>::quiet_NaN()) == "nan");
    CHECK(FormatDouble(std::numeric_limits<double>::infinity()) == "inf");
    CHECK(FormatDouble(-std::numeric_limits<double>::infinity()) == "-inf");
}

TEST_CASE("CsvWriter -> ReadCsvFile round trip", "[common][csv]")
{
    ScratchDir dir("csv-round-trip");
    const std::string path = dir.File("x.csv");
    const std::vector<double> values = {0.1,
                                        1e-7,
                                        1.0 / 3.0,
                                        -2.5e300,
                                        std::numeric_limits<double>::denorm_min(),
                                        std::numeric_limits<double>::max(),
                                        std::numeric_limits<double>::infinity(),
                                        std::numeric_limits<double>::quiet_NaN()};
    const std::vector<std::string> texts
        = {"plain", "a,b", "say \"hi\"", "two\nlines", "cr\r", "", " padded ", "#not a comment"};
    {
        CsvWriter w(path, {"i", "value", "text"});
        for (size_t i = 0; i < values.size(); ++i)
        {
            w.Add(static_cast<uint64_t>(i)).Add(values[i]).Add(texts[i]);
            w.EndRow();
        }
        w.Add(int64_t{-9}).Add(0.0).Add("last");
        w.EndRow();
        w.Commit();
    }
    const auto rows = ReadCsvFile(path);
    REQUIRE(rows.size() == values.size() + 2);
    CHECK(rows[0].fields == std::vector<std::string>{"i", "value", "text"});
    for (size_t i = 0; i < values.size(); ++i)
    {
        const CsvRow& row = rows[i + 1];
        REQUIRE(row.fields.size() == 3);
        CHECK(row.fields[0] == std::to_string(i));
        const double back = CsvDouble(row.fields[1], path, row, "value");
        if (std::isnan(values[i]))
        {
            CHECK(std::isnan(back));
        }
        else
        {
            CHECK(back == values[i]); // bit-exact: shortest round-trip formatting
        }
        CHECK(row.fields[2] == texts[i]);
    }
    // "two\nlines" spans lines 5 and 6, so the rows after it start one line later.
    CHECK(Lines(rows) == std::vector<size_t>{1, 2, 3, 4, 5, 7, 8, 9, 10, 11});
    CHECK(rows.back().fields == std::vector<std::string>{"-9", "0", "last"});

    // The bytes themselves (the header's worked example).
    const std::string small = dir.File("small.csv");
    CsvWriter w(small, {"step", "loss", "note"});
    w.Add(1).Add(0.1).Add("a,b");
    w.EndRow();
    w.Commit();
    CHECK(ScratchDir::Read(small) == "step,loss,note\n1,0.1,\"a,b\"\n");
}

TEST_CASE("ReadCsv: RFC 4180 quoting and line ends", "[common][csv]")
{
    const auto rows = ReadCsv("a,\"b,c\",\"d\"\"e\"\r\n,\"\"\n\"multi\nline\",x", "t.csv");
    CHECK(Fields(rows)
          == std::vector<std::vector<std::string>>{{"a", "b,c", "d\"e"},
                                                   {"", ""},
                                                   {"multi\nline", "x"}});
    CHECK(Lines(rows) == std::vector<size_t>{1, 2, 3});
    CHECK(ReadCsv("", "t.csv").empty());
    CHECK(Fields(ReadCsv("\n", "t.csv")) == std::vector<std::vector<std::string>>{{""}});
    CHECK(Fields(ReadCsv("a,\n", "t.csv")) == std::vector<std::vector<std::string>>{{"a", ""}});
    // ParseCsv (the line-less form) gives the same fields.
    CHECK(ParseCsv("a,\"b,c\"\nd\n") == std::vector<std::vector<std::string>>{{"a", "b,c"}, {"d"}});
}

TEST_CASE("ReadCsv options: comments, blank lines, trimmed fields", "[common][csv]")
{
    const std::string text = "# a trace\ndevice_id, gflops\n\n  \r\n0,\"1.5\"\n#1,2\n 1 , 2 \n";
    CsvOptions options;
    options.comments = true;
    options.skipBlankLines = true;
    options.trimSpaces = true;
    const auto rows = ReadCsv(text, "t.csv", options);
    CHECK(Fields(rows)
          == std::vector<std::vector<std::string>>{{"device_id", "gflops"},
                                                   {"0", "1.5"},
                                                   {"1", "2"}});
    CHECK(Lines(rows) == std::vector<size_t>{2, 5, 7});
    // Without the options every line is a row and spaces are data.
    const auto plain = ReadCsv(text, "t.csv");
    CHECK(plain.size() == 7);
    CHECK(plain[0].fields == std::vector<std::string>{"# a trace"});
    CHECK(plain[1].fields == std::vector<std::string>{"device_id", " gflops"});
    CHECK(plain[3].fields == std::vector<std::string>{"  "});
    // Trimming keeps what is inside quotes.
    CHECK(Fields(ReadCsv(" \" x \" ,y", "t.csv", options))
          == std::vector<std::vector<std::string>>{{" x ", "y"}});
}

TEST_CASE("ReadCsv errors name the file and the line", "[common][csv]")
{
    CHECK(ErrorOf("a,b\nc,\"open\nstill open\n") == "t.csv:2: quoted field is not closed");
    CHECK(ErrorOf("a\n\"x\"y,z\n") == "t.csv:2: unexpected 'y' after a closing quote");
    CHECK(ErrorOf("a\nb\nx\"y\n") == "t.csv:3: quote inside an unquoted field (quote the field)");
    CsvOptions comments;
    comments.comments = true;
    CHECK(ErrorOf("# one\n# two\nok\n\"\n", comments) == "t.csv:4: quoted field is not closed");
    CHECK(ErrorOf("\"a\nb\",c\nd\"\n")
          == "t.csv:3: quote inside an unquoted field (quote the field)");

    try
    {
        ReadCsv("x\n\"", "dir/f.csv");
        FAIL("no error");
    }
    catch (const CsvError& e)
    {
        CHECK(e.File() == "dir/f.csv");
        CHECK(e.Line() == 2);
    }
    CHECK_THROWS_AS(ReadCsv("\"", "f.csv"), InputError); // caught by main as bad input
    CHECK_THROWS_WITH(ReadCsvFile("/nonexistent/x.csv"), "/nonexistent/x.csv: cannot open file");
}

TEST_CASE("CsvDouble accepts what FormatDouble writes and nothing else", "[common][csv]")
{
    CsvRow row;
    row.line = 12;
    CHECK(CsvDouble("0.1", "f.csv", row, "loss") == 0.1);
    CHECK(CsvDouble("-1e-07", "f.csv", row, "loss") == -1e-7);
    CHECK(std::isinf(CsvDouble("inf", "f.csv", row, "loss")));
    CHECK(std::isnan(CsvDouble("nan", "f.csv", row, "loss")));
    for (const char* bad : {"", "1.5x", " 1", "0x10", "1e999", "one"})
    {
        CHECK_THROWS_WITH(CsvDouble(bad, "f.csv", row, "loss"),
                          std::string("f.csv:12: loss: not a number: '") + bad + "'");
    }
}

TEST_CASE("fuzz finding: a CSV error quoting a cell with a newline stays one line", "[common][csv]")
{
    // Found by fuzz/run's csv target: a quoted multi-line cell that is not a number made a
    // two-line message (the CLI promises one line); control characters are now written \xNN.
    const auto rows = ReadCsv("x\n\"1\n2\"\n", "f.csv");
    REQUIRE(rows.size() == 2);
    CHECK_THROWS_WITH(CsvDouble(rows[1].fields[0], "f.csv", rows[1], "x\ty"),
                      "f.csv:2: x\\x09y: not a number: '1\\x0a2'");
}
