#include "sim/replay-log.h"

#include "common/csv-reader.h"
#include "common/error.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace slsim
{
namespace
{

/// A CSV of numbers (what MetricsCollector writes: no quoting needed), read by column name.
class NumberTable
{
  public:
    explicit NumberTable(const std::string& path)
        : m_path(path)
    {
        std::vector<CsvRow> rows;
        try
        {
            rows = ReadCsvFile(path, Options());
        }
        catch (const CsvError& e)
        {
            throw InputError(std::string("training.replay: ") + e.what());
        }
        catch (const InputError& e)
        {
            throw InputError(std::string("training.replay: ") + e.what()
                             + " (is it a finished run?)");
        }
        if (rows.empty())
        {
            throw InputError("training.replay: " + path + ": empty file");
        }
        m_columns = std::move(rows.front().fields);
        for (size_t i = 1; i < rows.size(); ++i)
        {
            if (rows[i].fields.size() != m_columns.size())
            {
                throw InputError("training.replay: " + path + ":" + std::to_string(rows[i].line)
                                 + ": " + std::to_string(rows[i].fields.size())
                                 + " fields, expected " + std::to_string(m_columns.size()));
            }
            m_rows.push_back(std::move(rows[i]));
        }
    }

    size_t Rows() const
    {
        return m_rows.size();
    }

    bool HasColumn(const std::string& name) const
    {
        return std::find(m_columns.begin(), m_columns.end(), name) != m_columns.end();
    }

    /// The cell as a double, or NaN when it is empty (a quantity that was not measured).
    double OptionalNumber(size_t row, size_t column) const
    {
        return m_rows[row].fields[column].empty() ? std::numeric_limits<double>::quiet_NaN()
                                                  : Number(row, column);
    }

    size_t Column(const std::string& name) const
    {
        for (size_t i = 0; i < m_columns.size(); ++i)
        {
            if (m_columns[i] == name)
            {
                return i;
            }
        }
        throw InputError("training.replay: " + m_path + ": no column " + name);
    }

    /// The cell as a double (nan and inf allowed: a diverged run writes them).
    double Number(size_t row, size_t column) const
    {
        try
        {
            return CsvDouble(m_rows[row].fields[column], m_path, m_rows[row], m_columns[column]);
        }
        catch (const CsvError& e)
        {
            throw InputError(std::string("training.replay: ") + e.what());
        }
    }

    /// The cell as a whole number in [min, max] (a steps or device count; not nan or inf).
    int64_t Integer(size_t row, size_t column, int64_t min, int64_t max) const
    {
        const double v = Number(row, column);
        if (!(v >= static_cast<double>(min) && v <= static_cast<double>(max)) || v != std::floor(v))
        {
            throw InputError("training.replay: " + m_path + ":" + std::to_string(m_rows[row].line)
                             + ": " + m_columns[column] + ": expected an integer in "
                             + std::to_string(min) + ".." + std::to_string(max) + ", got "
                             + m_rows[row].fields[column]);
        }
        return static_cast<int64_t>(v);
    }

  private:
    static CsvOptions Options()
    {
        CsvOptions o;
        o.skipBlankLines = true;
        return o;
    }

    std::string m_path;
    std::vector<std::string> m_columns;
    std::vector<CsvRow> m_rows;
};

} // namespace

ReplayLog::ReplayLog(const std::string& folder)
    : m_folder(folder)
{
    const NumberTable steps(folder + "/steps.csv");
    const size_t device = steps.Column("device"), round = steps.Column("round"),
                 step = steps.Column("step"), batch = steps.Column("batch"),
                 loss = steps.Column("loss"), acc = steps.Column("batch_accuracy"),
                 err = steps.Column("codec_rel_error");
    for (size_t i = 0; i < steps.Rows(); ++i)
    {
        Step s;
        s.batch = static_cast<int>(steps.Integer(i, batch, 0, INT_MAX));
        s.loss = steps.Number(i, loss);
        s.batchAccuracy = steps.Number(i, acc);
        s.codecRelError = steps.Number(i, err);
        m_steps[{static_cast<int>(steps.Integer(i, device, 0, INT_MAX)),
                 static_cast<int>(steps.Integer(i, round, 0, INT_MAX)),
                 static_cast<uint32_t>(steps.Integer(i, step, 0, UINT32_MAX))}]
            = s;
    }
    const NumberTable eval(folder + "/eval.csv");
    const size_t eSteps = eval.Column("steps"), eAcc = eval.Column("test_accuracy"),
                 eLoss = eval.Column("test_loss");
    // cut_dcor_sq is absent from references made before the leakage was measured.
    const bool hasLeakage = eval.HasColumn("cut_dcor_sq");
    const size_t eLeak = hasLeakage ? eval.Column("cut_dcor_sq") : 0;
    for (size_t i = 0; i < eval.Rows(); ++i)
    {
        Eval& e = m_evals[eval.Integer(i, eSteps, 0, INT64_MAX / 2)];
        e = Eval{eval.Number(i, eAcc), eval.Number(i, eLoss)};
        if (hasLeakage)
        {
            e.cutDcorSq = eval.OptionalNumber(i, eLeak);
        }
    }
}

const ReplayLog::Step&
ReplayLog::StepOf(int d, int round, uint32_t step) const
{
    const auto it = m_steps.find({d, round, step});
    if (it == m_steps.end())
    {
        throw InputError("training.replay: " + m_folder + "/steps.csv has no step "
                         + std::to_string(step) + " of device " + std::to_string(d) + " in round "
                         + std::to_string(round)
                         + " (the reference stopped earlier: a shorter time budget?)");
    }
    return it->second;
}

const ReplayLog::Eval&
ReplayLog::EvalAfter(int64_t steps) const
{
    const auto it = m_evals.find(steps);
    if (it == m_evals.end())
    {
        throw InputError("training.replay: " + m_folder + "/eval.csv has no evaluation after "
                         + std::to_string(steps)
                         + " steps (the time budget ends this run where the reference did not "
                           "evaluate)");
    }
    return it->second;
}

} // namespace slsim
