// Sweeps: a base scenario, a grid of overrides (Cartesian product), an optional equal-budget axis
// or baselines at each grid configuration's budget, and repetitions with different seeds
// (configurations that resolve to the same scenario run once), expanded into points that run as
// separate `slsim run` processes (ns-3 keeps global state, so a process per point is the clean
// boundary).
//
// Output folder:
//   DIR/points/<id>/   one complete run per point (scenario.json, point.json, run.log, the CSVs,
//                      manifest.json); written as DIR/.tmp-<id>-<pid>/ and renamed when the run
//                      succeeded, so a point is complete or absent
//   DIR/failed/<id>/   the last failed attempt of a point (its run.log says why)
//   DIR/sweep.csv      one row per point: point, the grid columns, repetition, seed, then the
//                      point's summary.csv columns; in point order (deterministic)
// Units: sweep-plan.cc (reading and expanding a sweep into points), sweep-run.cc (`slsim sweep`:
// processes, progress, MPI ranks), sweep-combine.cc (DIR/sweep.csv from the complete points).
// Point ids are "p<index>-<hash>", the hash over the point's full scenario document: re-running
// the same sweep skips complete points (resume); a changed base or grid gives new ids.
#ifndef SLSIM_APP_SWEEP_H
#define SLSIM_APP_SWEEP_H

#include "app/json-reader.h"

#include <cstdint>
#include <string>
#include <vector>

namespace slsim
{

/// One column of the grid: its name and the scenario paths each value is written to.
struct SweepAxis
{
    std::string column;             // "codec.uplink.sparsity", or "budget_bits_per_element"
    std::vector<std::string> paths; // where each value goes in the scenario document
    std::vector<Json> values;
};

struct SweepPoint
{
    size_t index = 0;
    std::string id;                  // p0007-1a2b3c4d
    std::vector<std::string> values; // one formatted value per axis, in axis order
    int repetition = 0;
    uint64_t seed = 1;
    Json scenario; // the full scenario document for `slsim run`
};

struct Sweep
{
    std::vector<SweepAxis> axes;
    std::vector<SweepPoint> points;
    /// Configurations left out because they resolve to the same scenario as an earlier one:
    /// "<what it set> (same as <the one kept>)".
    std::vector<std::string> duplicates;
};

/// Reads a sweep file, applies `overrides` (--set) to its base, expands and validates every
/// point (a bad point is an InputError naming the file, the point and the JSON path).
Sweep LoadSweep(const std::string& path, const std::vector<std::string>& overrides);

/// Expands an already parsed sweep document (baseDir resolves a relative base file and traces).
Sweep ExpandSweep(const Json& doc, const std::string& baseDir,
                  const std::vector<std::string>& overrides);

/// DIR/points: the complete points' folders.
std::string PointsDir(const std::string& outDir);

/// Whether the point's folder is complete (its summary.csv exists: the folder is renamed into
/// place only after the run succeeded).
bool PointComplete(const std::string& outDir, const SweepPoint& p);

/// Writes DIR/sweep.csv from the complete points; returns the number of points missing.
size_t CombineSweep(const Sweep& sweep, const std::string& outDir);

/// This process's share of an MPI job, from OMPI_COMM_WORLD_RANK/SIZE (Open MPI) or
/// PMI_RANK/PMI_SIZE (MPICH); {0, 1} outside MPI. Throws InputError on inconsistent values.
void MpiRankFromEnvironment(int& rank, int& size);

} // namespace slsim

#endif
