#include "app/probe-command.h"

#include "app/fs-util.h"
#include "app/probe.h"
#include "app/scenario-loader.h"
#include "common/csv-writer.h"
#include "common/error.h"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace slsim
{

const char* PROBE_USAGE
    = "  slsim probe SCENARIO.json --out DIR [--set key.path=value ...] [--train-epochs N]\n"
      "              [--at-epochs E1,E2,...] [--batches B] [--budgets 2,3,4,5,6,7] [--draws R]\n"
      "              [--equal-budget 2.32] [--randtopk-a 0.1] [--quiet]\n"
      "      train the scenario's model centrally (uncompressed) and measure, at epoch 0 and "
      "after\n"
      "      the listed epochs, each codec's error on the cut activations vs the bit budget and\n"
      "      the gradient bias it causes; writes errors.csv, bias.csv, manifest.json to DIR;\n"
      "      a line per trained epoch and measured batch on stderr unless --quiet\n";

namespace
{

double
ParseNumber(const std::string& flag, const std::string& v)
{
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size())
    {
        throw InputError("probe: " + flag + ": expected a number, got '" + v + "'");
    }
    return d;
}

int
ParseInteger(const std::string& flag, const std::string& v)
{
    char* end = nullptr;
    const long long i = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || end != v.c_str() + v.size() || i < -1000000000LL || i > 1000000000LL)
    {
        throw InputError("probe: " + flag + ": expected an integer, got '" + v + "'");
    }
    return static_cast<int>(i);
}

std::vector<std::string>
SplitList(const std::string& flag, const std::string& v)
{
    std::vector<std::string> items;
    std::stringstream ss(v);
    std::string item;
    while (std::getline(ss, item, ','))
    {
        items.push_back(item);
    }
    if (items.empty() || (!v.empty() && v.back() == ','))
    {
        throw InputError("probe: " + flag + ": expected a comma-separated list, got '" + v + "'");
    }
    return items;
}

} // namespace

int
ProbeCommand(const std::vector<std::string>& args)
{
    std::string scenario, out;
    std::vector<std::string> overrides;
    ProbeOptions o;
    bool quiet = false;
    for (size_t i = 0; i < args.size(); ++i)
    {
        const std::string& s = args[i];
        std::string flag = s, inlineValue;
        bool hasInline = false;
        if (s.rfind("--", 0) == 0 && s.find('=') != std::string::npos)
        {
            flag = s.substr(0, s.find('='));
            inlineValue = s.substr(s.find('=') + 1);
            hasInline = true;
        }
        auto value = [&]() -> std::string {
            if (hasInline)
            {
                return inlineValue;
            }
            if (i + 1 >= args.size())
            {
                throw InputError("probe: " + flag + " needs a value");
            }
            return args[++i];
        };
        if (flag == "--out")
        {
            out = value();
        }
        else if (flag == "--set")
        {
            overrides.push_back(value());
        }
        else if (flag == "--train-epochs")
        {
            o.trainEpochs = ParseInteger(flag, value());
        }
        else if (flag == "--at-epochs")
        {
            o.atEpochs.clear();
            for (const std::string& e : SplitList(flag, value()))
            {
                o.atEpochs.push_back(ParseInteger(flag, e));
            }
        }
        else if (flag == "--batches")
        {
            o.batches = ParseInteger(flag, value());
        }
        else if (flag == "--budgets")
        {
            o.budgets.clear();
            for (const std::string& b : SplitList(flag, value()))
            {
                o.budgets.push_back(ParseNumber(flag, b));
            }
        }
        else if (flag == "--draws")
        {
            o.draws = ParseInteger(flag, value());
        }
        else if (flag == "--equal-budget")
        {
            o.equalBudget = ParseNumber(flag, value());
        }
        else if (flag == "--randtopk-a")
        {
            o.randtopkA = ParseNumber(flag, value());
        }
        else if (s == "--quiet" || s == "-q")
        {
            quiet = true;
        }
        else if (!s.empty() && s[0] == '-')
        {
            throw InputError("probe: unknown option " + s + " (see slsim --help)");
        }
        else if (scenario.empty())
        {
            scenario = s;
        }
        else
        {
            throw InputError("probe: unexpected argument " + s);
        }
    }
    if (scenario.empty())
    {
        throw InputError("probe: missing SCENARIO.json");
    }
    if (out.empty())
    {
        throw InputError("probe: missing --out DIR");
    }
    try
    {
        ValidateProbeOptions(o);
    }
    catch (const InputError& e)
    {
        throw InputError(std::string("probe: ") + e.what());
    }
    const ScenarioConfig c = LoadScenarioFile(scenario, overrides);
    if (!c.model.headCut.empty())
    {
        throw InputError("probe: model.head_cut: the probe measures a plain split's cut (U-shaped "
                         "models are not probed; drop the key)");
    }
    o.progress = quiet ? nullptr : &std::cerr;

    MakeDirectories(out);
    RemoveFileIfExists(out + "/manifest.json");
    const auto t0 = std::chrono::steady_clock::now();
    ProbeSummary s;
    try
    {
        s = RunProbe(c, o, out);
    }
    catch (const InputError& e)
    {
        throw InputError(std::string("probe: ") + e.what());
    }
    const double wall
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    Json m = Json::object();
    m["slsim_version"] = SLSIM_VERSION;
    m["command"] = "probe";
    m["scenario_file"] = scenario;
    m["overrides"] = overrides;
    m["seed"] = c.seed;
    m["probe"] = {{"train_epochs", o.trainEpochs},
                  {"measure_epochs", s.measureEpochs},
                  {"batches", o.batches},
                  {"batch_size", c.training.batchSize},
                  {"budgets", o.budgets},
                  {"equal_budget", o.equalBudget},
                  {"draws", o.draws},
                  {"randtopk_a", o.randtopkA},
                  {"threads", c.model.threads}};
    m["results"] = {{"cut_shape", s.cutShape.dims}, {"error_rows", s.errorRows},
                    {"bias_rows", s.biasRows},      {"train_loss", s.trainLoss},
                    {"train_wall_s", s.trainWallS}, {"measure_wall_s", s.measureWallS}};
    m["wall_time_s"] = wall;
    m["scenario"] = ScenarioToJson(c);
    WriteFileAtomic(out + "/manifest.json", m.dump(2) + "\n");

    std::cout << "slsim probe: " << c.name << ": " << c.model.name << " cut " << c.model.cut
              << " -> " << s.cutShape.ToString() << ", measured at epochs";
    for (size_t i = 0; i < s.measureEpochs.size(); ++i)
    {
        std::cout << (i ? "," : " ") << s.measureEpochs[i];
    }
    std::cout << " on " << o.batches << " batches of " << c.training.batchSize << ": "
              << s.errorRows << " error rows, " << s.biasRows << " bias rows, wall "
              << FormatDouble(static_cast<double>(static_cast<long long>(wall * 100)) / 100)
              << " s -> " << out << "/\n";
    return 0;
}

} // namespace slsim
