// `slsim probe`: codec error against the bit budget on real cut-layer feature maps (the paper's
// Fig. 2) and the gradient bias each codec causes (Theorem 1), measured on a model trained
// centrally and uncompressed from a scenario's dataset, model, cut, optimizer and batch size.
//
// Identical passes. Every forward/backward pass of a measurement (the uncompressed reference and
// each compressed one) runs on a fresh copy of the model: BuildSplitModel with a per-batch seed,
// then SetState with the trained state (parameters and BN running statistics). A fresh copy's
// dropout layers start their streams (Rng(seed, "dropout", layer)) from the beginning, so every
// pass of a batch draws the same dropout masks; BN runs in training mode in every pass (batch
// statistics; the copies' running statistics are thrown away), and the trained model itself is
// never run by a measurement. Buffers handed to the models are 64-byte aligned in every pass, so
// the only difference between two passes is decode(encode(x)) in place of x: the codec "none"
// gives bit-identical gradients (cos exactly 1, bias exactly 0; tested).
#ifndef SLSIM_APP_PROBE_H
#define SLSIM_APP_PROBE_H

#include "sim/scenario-config.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace slsim
{

struct ProbeOptions
{
    int trainEpochs = 0;       // central, uncompressed training before/among measurements
    std::vector<int> atEpochs; // measure after these epochs (1..trainEpochs); empty: the last
    int batches = 4;           // fixed training batches measured (scenario batch size)
    std::vector<double> budgets = {2, 3, 4, 5, 6, 7}; // bits per element (the "grid" set)
    double equalBudget = 2.32; // the paper's equal-budget configurations; 0: none
    int draws = 4;             // draws of randomised codecs (randtopk) per batch
    double randtopkA = 0.1;
    /// Non-null: one line per trained epoch and per measured batch ("slsim probe: ..."); the CLI
    /// passes std::cerr unless --quiet.
    std::ostream* progress = nullptr;
};

/// One codec configuration measured at one budget.
struct ProbeCodec
{
    CodecConfig config; // resolved (no budget left in it)
    std::string set;    // "grid" (--budgets), "equal" (the paper's equal budget), "control" (none)
    double budget = 0;  // the budget this configuration belongs to (32 for none)
};

/// The configurations at a grid budget b: quantize floor(b) bits; topk and randtopk with a bitmap
/// keeping (b - 1)/32; ms with m-bit codes keeping (b - m)/32 for every m = 1 .. ceil(b) - 1.
std::vector<ProbeCodec> GridCodecs(double budget, double randtopkA);

/// The paper's equal-budget configurations at b (2.32): ms 2-bit codes keeping (b - 2)/32 (0.99
/// sparsity at 2.32), topk and randtopk bitmap (b - 1)/32 (4.125 %), quantize ceil(b) bits (3).
std::vector<ProbeCodec> EqualBudgetCodecs(double budget, double randtopkA);

/// Everything measured: the control (none), then the equal-budget set, then the grid.
std::vector<ProbeCodec> ProbeCodecs(const ProbeOptions& options);

/// Checks the options against each other (InputError naming the flag).
void ValidateProbeOptions(const ProbeOptions& options);

struct ProbeSummary
{
    size_t errorRows = 0;
    size_t biasRows = 0;
    std::vector<int> measureEpochs;
    std::vector<double> trainLoss; // mean training loss per epoch
    double trainWallS = 0;
    double measureWallS = 0;
    Shape cutShape; // per sample
};

/// Trains and measures; writes outDir/errors.csv and outDir/bias.csv (atomically, both or none).
/// The folder must exist. Throws InputError for options the data cannot meet.
ProbeSummary RunProbe(const ScenarioConfig& config, const ProbeOptions& options,
                      const std::string& outDir);

} // namespace slsim

#endif
