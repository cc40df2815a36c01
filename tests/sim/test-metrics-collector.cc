// MetricsCollector: rows built from the apps' signals (fed directly here, at simulated instants),
// byte accounting by message kind, events in the current round; and that the apps declare the
// trace sources and attributes the collector and RunScenario use.
#include "common/csv-reader.h"
#include "sim/device-app.h"
#include "sim/metrics-collector.h"
#include "sim/server-app.h"

#include "ns3/core-module.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace slsim;

namespace
{

std::vector<std::vector<std::string>>
Rows(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    auto rows = ParseCsv(text.str());
    while (!rows.empty() && rows.back().size() == 1 && rows.back()[0].empty())
    {
        rows.pop_back();
    }
    return rows;
}

std::string
Cell(const std::vector<std::vector<std::string>>& rows, size_t row, const std::string& column)
{
    const auto& header = rows.at(0);
    for (size_t i = 0; i < header.size(); ++i)
    {
        if (header[i] == column)
        {
            return rows.at(row + 1).at(i);
        }
    }
    FAIL("no column " << column);
    return "";
}

void
At(double s, std::function<void()> f)
{
    ns3::Simulator::Schedule(ns3::Seconds(s), f);
}

} // namespace

TEST_CASE("metrics collector: one step's row from device and server signals")
{
    MetricsCollector m(2, true);
    const uint64_t actBytes = FRAME_PREFIX_BYTES + MESSAGE_HEADER_BYTES + 150;
    const uint64_t gradBytes = FRAME_PREFIX_BYTES + MESSAGE_HEADER_BYTES + 90;
    // device 1: starts at 0.25, connected at 0.375, START (bare: control) at 0.75, one step
    // 1.0-2.5, its WEIGHTS reach the server at 3.75; device 0 only gets a START at 3.5
    At(0.25, [&] { m.OnConnecting(1); });
    At(0.375, [&] { m.OnServerFrameReceived(FrameRecord{MessageKind::HELLO, 1, true, 36}); });
    At(0.5, [&] { m.OnRound(0, 1); }); // the server finished round 0
    At(0.625, [&] { m.OnPhaseStarted(4); });
    At(0.75, [&] { m.OnFrameSent(FrameRecord{MessageKind::START, 1, false, 20, 4}); });
    At(1.0, [&] { m.OnStepStarted(StepStartRecord{1, 4, 7, 20, 0.25, 0.125}); });
    At(1.125, [&] { m.OnFrameSent(FrameRecord{MessageKind::ACTIVATIONS, 1, true, actBytes}); });
    At(1.5, [&] { m.OnServerStep(ServerStepRecord{1, 7, 2.5, 15, 20, 0.25, 0.0625}); });
    At(1.75, [&] { m.OnFrameSent(FrameRecord{MessageKind::GRADIENT, 1, false, gradBytes}); });
    At(2.0, [&] { m.OnDeviceTimedOut(0); });
    At(2.0, [&] { m.OnRto(RtoRecord{1, true, 0.5}); }); // [1.5, 2.0], in its step
    At(2.5, [&] { m.OnStepCompleted(StepEndRecord{1, 7, gradBytes, 0.25}); });
    At(3.0, [&] { m.OnEvaluation(1, 0.75, 0.5, 0.125); });
    // a START with weights is sync traffic, a bare one control; WEIGHTS is sync
    At(3.5, [&] { m.OnFrameSent(FrameRecord{MessageKind::START, 0, false, 20}); });
    At(3.5, [&] { m.OnFrameSent(FrameRecord{MessageKind::START, 0, false, 100}); });
    At(3.5, [&] { m.OnFrameSent(FrameRecord{MessageKind::WEIGHTS, 1, true, 60, 4}); });
    // a stale report (an older phase) moves nothing; the current one ends the sync
    At(3.625, [&] { m.OnServerFrameReceived(FrameRecord{MessageKind::WEIGHTS, 1, true, 60, 3}); });
    At(3.75, [&] { m.OnServerFrameReceived(FrameRecord{MessageKind::WEIGHTS, 1, true, 60, 4}); });
    At(3.75, [&] { m.OnRto(RtoRecord{0, false, 0.375}); }); // [3.375, 3.75], device 0 in sync
    At(4.0, [&] { m.Event(-1, "diverged"); });
    ns3::Simulator::Run();
    ns3::Simulator::Destroy();

    CHECK(m.Steps() == 1);
    CHECK(m.BytesUp() == actBytes);
    CHECK(m.BytesDown() == gradBytes);
    CHECK(m.BytesSync() == 160);
    CHECK(m.SocketBytes(1, true) == actBytes + 60);
    CHECK(m.SocketBytes(1, false) == gradBytes + 20);
    CHECK(m.SocketBytes(0, false) == 120);

    const auto dir = std::filesystem::temp_directory_path() / "slsim-test-collector";
    std::filesystem::create_directories(dir);
    RunSummary summary;
    summary.simTimeS = 5;
    m.Write(dir.string(), summary, 0.7, nullptr);

    const auto steps = Rows((dir / "steps.csv").string());
    REQUIRE(steps.size() == 2);
    CHECK(Cell(steps, 0, "sim_time_s") == "2.5");
    CHECK(Cell(steps, 0, "round") == "1");
    CHECK(Cell(steps, 0, "phase") == "4");
    CHECK(Cell(steps, 0, "step") == "7");
    CHECK(Cell(steps, 0, "device") == "1");
    CHECK(Cell(steps, 0, "batch") == "20");
    CHECK(Cell(steps, 0, "loss") == "2.5");
    CHECK(Cell(steps, 0, "batch_accuracy") == "0.75");
    CHECK(Cell(steps, 0, "bytes_up") == std::to_string(actBytes));
    CHECK(Cell(steps, 0, "bytes_down") == std::to_string(gradBytes));
    CHECK(Cell(steps, 0, "device_compute_s") == "0.375"); // forward 0.125 + backward 0.25
    CHECK(Cell(steps, 0, "server_compute_s") == "0.0625");
    CHECK(Cell(steps, 0, "queue_s") == "0.25");
    // 1.5 s in all, less compute and queueing
    CHECK(Cell(steps, 0, "comm_s") == "0.8125");
    CHECK(Cell(steps, 0, "codec_rel_error") == "0.25");

    // devices.csv: per device, its bytes by kind and its steps' time split summed
    const auto devices = Rows((dir / "devices.csv").string());
    REQUIRE(devices.size() == 3);
    CHECK(Cell(devices, 0, "device") == "0");
    CHECK(Cell(devices, 0, "bytes_up") == "0");
    CHECK(Cell(devices, 0, "bytes_sync") == "100");
    CHECK(Cell(devices, 0, "comm_s") == "0");
    CHECK(Cell(devices, 1, "bytes_up") == std::to_string(actBytes));
    CHECK(Cell(devices, 1, "bytes_down") == std::to_string(gradBytes));
    CHECK(Cell(devices, 1, "bytes_sync") == "60");
    CHECK(Cell(devices, 1, "device_compute_s") == "0.375");
    CHECK(Cell(devices, 1, "queue_s") == "0.25");
    CHECK(Cell(devices, 1, "comm_s") == "0.8125");
    CHECK(Cell(devices, 1, "tcp_timeouts") == "0"); // no network
    // the rest of each device's 5 s: 0.25 idle before its start + 0.375 waiting for the
    // others to connect + 1.25 after its report; connect 0.375 - 0.25; sync 1.0 - 0.75 (START)
    // + 3.75 - 2.5 (weights up)
    CHECK(Cell(devices, 1, "idle_s") == "1.875");
    CHECK(Cell(devices, 1, "connect_s") == "0.125");
    CHECK(Cell(devices, 1, "sync_s") == "1.5");
    CHECK(Cell(devices, 0, "idle_s") == "3.5");
    CHECK(Cell(devices, 0, "sync_s") == "1.5"); // its START at 3.5 until the end
    const DeviceTime t1 = m.TimeOf(1, 5);
    CHECK(t1.deviceCompute + t1.serverCompute + t1.queue + t1.comm + t1.connect + t1.sync + t1.idle
          == Approx(5));
    const RtoSummary rto = m.Rto();
    CHECK(rto.timeouts == 2);
    CHECK(rto.stallS == Approx(0.875));
    CHECK(rto.device == 1);
    CHECK(rto.uplink);
    CHECK(rto.deviceWaitS == 0.5);
    CHECK(rto.round == 1);
    CHECK(rto.phase == 4);
    CHECK(rto.activity == "steps");
    const auto sum = Rows((dir / "summary.csv").string());
    CHECK(Cell(sum, 0, "mean_sync_s") == "1.5");
    CHECK(Cell(sum, 0, "mean_idle_s") == "2.6875");
    CHECK(std::stod(Cell(sum, 0, "rto_stall_s")) == Approx(0.875));

    const auto events = Rows((dir / "events.csv").string());
    REQUIRE(events.size() == 3);
    CHECK(events[1] == std::vector<std::string>{"2", "0", "timeout", "1"});
    CHECK(events[2] == std::vector<std::string>{"4", "-1", "diverged", "1"});

    const auto eval = Rows((dir / "eval.csv").string());
    REQUIRE(eval.size() == 2);
    CHECK(Cell(eval, 0, "steps") == "1");
    CHECK(Cell(eval, 0, "test_accuracy") == "0.75");
    CHECK(Cell(eval, 0, "cut_dcor_sq") == "0.125");
    CHECK(summary.timeToTargetS == 3.0);
    CHECK(summary.finalAccuracy == 0.75);

    const auto frames = Rows((dir / "frames.csv").string());
    CHECK(frames.size() == 7);
    CHECK(frames[2]
          == std::vector<std::string>{"1.125", "activations", "1", "up", std::to_string(actBytes)});
    std::filesystem::remove_all(dir);
}

TEST_CASE("metrics collector: a step restarted by a new phase leaves no row")
{
    MetricsCollector m(1, false);
    At(1, [&] { m.OnStepStarted(StepStartRecord{0, 1, 1, 8, 0, 0.5}); });
    At(2, [&] { m.OnStepStarted(StepStartRecord{0, 2, 2, 8, 0, 0.5}); });
    At(3, [&] { m.OnStepCompleted(StepEndRecord{0, 2, 40, 0.5}); });
    ns3::Simulator::Run();
    ns3::Simulator::Destroy();
    CHECK(m.Steps() == 1);
}

TEST_CASE("metrics collector: a phase's RTO stall is a union over connections, like the run's")
{
    // Phase 2: three connections wait at once, [1.0, 1.5] each (1.5 connection-seconds, 0.5 s of
    // simulated time); phase 3: one waits [2.0, 2.75]. The phase with the most stall is 3.
    MetricsCollector m(3, false);
    At(0.5, [&] { m.OnRound(0, 1); });
    At(0.5, [&] { m.OnPhaseStarted(2); });
    for (int d = 0; d < 3; ++d)
    {
        At(1.5, [&m, d] { m.OnRto(RtoRecord{d, d != 1, 0.5}); });
    }
    At(1.75, [&] { m.OnPhaseStarted(3); });
    At(2.75, [&] { m.OnRto(RtoRecord{0, true, 0.75}); });
    ns3::Simulator::Run();
    ns3::Simulator::Destroy();

    const RtoSummary rto = m.Rto();
    CHECK(rto.timeouts == 4);
    CHECK(rto.stallS == Approx(1.25));
    CHECK(rto.round == 1);
    CHECK(rto.phase == 3);
    CHECK(rto.activity == "idle");
    CHECK(rto.phaseStallS == Approx(0.75));
    CHECK(rto.phaseTimeouts == 1);
    CHECK(rto.phaseStallS <= rto.stallS);
    CHECK(rto.device == 0); // its uplink: 0.5 + 0.75
    CHECK(rto.uplink);
    CHECK(rto.deviceWaitS == Approx(1.25));
}

TEST_CASE("apps declare the trace sources and attributes the recorders and RunScenario use")
{
    ns3::TypeId device = DeviceApp::GetTypeId();
    for (const char* source :
         {"FrameSent", "FrameReceived", "StepStarted", "StepCompleted", "Connecting"})
    {
        INFO(source);
        CHECK(device.LookupTraceSourceByName(source));
    }
    ns3::TypeId::AttributeInformation info;
    for (const char* attr : {"Device", "ServerAddress", "Port", "Gflops", "TimeBudgetS"})
    {
        INFO(attr);
        CHECK(device.LookupAttributeByName(attr, &info));
    }
    ns3::TypeId server = ServerApp::GetTypeId();
    for (const char* source :
         {"FrameSent", "FrameReceived", "ServerStepDone", "PhaseStarted", "PhaseClosed",
          "DeviceTimedOut", "EvaluationDone", "RoundStarted", "Round"})
    {
        INFO(source);
        CHECK(server.LookupTraceSourceByName(source));
    }
    for (const char* attr : {"Port", "Devices", "Workers", "Gflops", "TimeoutS", "Epochs",
                             "EvalEveryRounds", "TimeBudgetS"})
    {
        INFO(attr);
        CHECK(server.LookupAttributeByName(attr, &info));
    }
}
