// The key tables: the committed schema and README tables are what the tables generate, and a
// table row alone gives a key its reader, writer, schema and docs.
#include "app/field-table.h"
#include "app/json-reader.h"
#include "app/scenario-keys.h"
#include "common/error.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

using namespace slsim;

namespace
{

std::string
ReadText(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// A toy section: two fields declared once.
struct Toy
{
    double rateMbps = 3.5;
    int count = 2;
};

const Table<Toy>&
ToyTable()
{
    static const Table<Toy> table = [] {
        Table<Toy> t;
        t.fields.push_back(NumberField("rate_mbps", &Toy::rateMbps, RATE_MBPS, "Mbps", "a rate"));
        t.fields.push_back(IntegerField("count", &Toy::count, 1, 9, "", "a count"));
        return t;
    }();
    return table;
}

} // namespace

TEST_CASE("the committed scenario schema is what `slsim schema` prints", "[app][keys]")
{
    const Json committed = ReadJsonFile(SLSIM_SOURCE_DIR "/scenarios/scenario.schema.json");
    INFO("regenerate: build/slsim schema > scenarios/scenario.schema.json");
    CHECK(committed == ScenarioSchema());
}

TEST_CASE("the key tables of scenarios/README.md are what `slsim schema --markdown` prints",
          "[app][keys]")
{
    const std::string readme = ReadText(SLSIM_SOURCE_DIR "/scenarios/README.md");
    const size_t begin = readme.find(MARKDOWN_BEGIN);
    const size_t end = readme.find(MARKDOWN_END);
    REQUIRE(begin != std::string::npos);
    REQUIRE(end != std::string::npos);
    const size_t from = begin + std::string(MARKDOWN_BEGIN).size() + 1;
    INFO("replace the part between the markers with: build/slsim schema --markdown");
    CHECK(readme.substr(from, end - from) == ScenarioMarkdown() + "\n");
}

TEST_CASE("one table row gives a key its reader, writer, schema and docs", "[app][keys]")
{
    Toy toy;
    ReadContext ctx;
    ReadObject(ToyTable(), ParseJsonText(R"({"rate_mbps": 8})", "t"), "toy", toy, ctx);
    CHECK(toy.rateMbps == 8);
    CHECK(toy.count == 2); // default kept
    CHECK(ctx.given.count("toy.rate_mbps") == 1);
    CHECK(WriteObject(ToyTable(), toy).dump() == R"({"rate_mbps":8.0,"count":2})");
    const Json schema = SchemaOf(ToyTable());
    CHECK(schema["properties"]["rate_mbps"]["maximum"] == 1e13);
    CHECK(schema["properties"]["count"]["description"] == "a count; default 2");
    CHECK(schema["additionalProperties"] == false);
    std::string md;
    MarkdownOf(ToyTable(), "toy", md);
    CHECK(md.find("| `rate_mbps` | number, Mbps | `3.5` | [1e-06, 1e+13] | a rate |")
          != std::string::npos);
    auto error = [](const char* text) {
        Toy t;
        ReadContext c;
        try
        {
            ReadObject(ToyTable(), ParseJsonText(text, "t"), "toy", t, c);
        }
        catch (const InputError& e)
        {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(error(R"({"rate_mbps": 1e300})")
          == "toy.rate_mbps: must be in [1e-06, 1e+13] Mbps, got 1e+300");
    CHECK(error(R"({"count": 10})") == "toy.count: must be in 1..9, got 10");
    CHECK(error(R"({"cuont": 1})") == "toy.cuont: unknown key (did you mean \"count\"?)");
    CHECK(error(R"({"count": "2"})") == "toy.count: must be an integer, got \"2\"");
}

TEST_CASE("every scenario default is the struct's and the writer omits keys that do not apply",
          "[app][keys]")
{
    const Json schema = ScenarioSchema();
    const auto& p = schema["properties"];
    CHECK(p["network"]["properties"]["bottleneck_mbps"]["description"]
          == "shared hub <-> server link rate (Mbps); default "
                 + FormatDouble(NetworkConfig().bottleneckMbps));
    CHECK(p["training"]["properties"]["batch_size"]["description"].get<std::string>().find(
              "default " + std::to_string(TrainingConfig().batchSize))
          != std::string::npos);
    CHECK(schema["required"] == Json::array({"devices"}));
    ScenarioConfig c;
    c.model.name = "lenet5";
    const Json written = WriteObject(ScenarioTable(), c);
    CHECK_FALSE(written["model"].contains("hidden"));
    CHECK_FALSE(written["optimizer"].contains("beta1"));
    CHECK_FALSE(written["training"].contains("replay"));
    CHECK(written["dataset"].contains("synthetic"));
}
