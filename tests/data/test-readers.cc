// Readers on tiny files written at test time (and a committed Fashion-MNIST sample): contents,
// gzip, and a clear InputError for missing, truncated, wrong-magic and out-of-range files.
#include "common/error.h"
#include "common/rng.h"
#include "data-fixtures.h"
#include "models/data/dataset.h"
#include "models/data/readers.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>

using namespace slsim;
using namespace slsim::test;

namespace
{

/// Runs f, which must throw InputError whose message contains every one of `parts`.
template <typename F>
void
RequireInputError(F f, std::initializer_list<std::string> parts)
{
    try
    {
        f();
        FAIL("expected an InputError");
    }
    catch (const InputError& e)
    {
        const std::string msg = e.what();
        INFO(msg);
        for (const auto& part : parts)
        {
            CHECK(msg.find(part) != std::string::npos);
        }
        CHECK(msg.find('\n') == std::string::npos);
    }
}

const std::vector<uint8_t> LABELS5{5, 0, 4, 1, 9};

} // namespace

TEST_CASE("IDX images and labels are read, plain and gzip", "[data][readers]")
{
    ScratchDir dir("idx");
    WriteBytes(dir.File("img"), IdxImages(5, 3, 4));
    WriteBytes(dir.File("lab"), IdxLabels(LABELS5));
    WriteBytes(dir.File("img.gz"), Gzip(IdxImages(5, 3, 4)));
    WriteBytes(dir.File("lab.gz"), Gzip(IdxLabels(LABELS5)));
    for (const char* suffix : {"", ".gz"})
    {
        Dataset d = ReadIdxPair(dir.File(std::string("img") + suffix),
                                dir.File(std::string("lab") + suffix), "mnist");
        REQUIRE(d.Size() == 5);
        CHECK(d.channels == 1);
        CHECK(d.height == 3);
        CHECK(d.width == 4);
        CHECK(d.labels == LABELS5);
        REQUIRE(d.pixels.size() == 5 * 12);
        for (size_t i = 0; i < 5; ++i)
        {
            for (size_t p = 0; p < 12; ++p)
            {
                REQUIRE(d.Sample(i)[p] == PatternPixel(i, p));
            }
        }
    }
}

TEST_CASE("concatenated gzip members read as one file", "[data][readers]")
{
    ScratchDir dir("gzcat");
    const std::vector<uint8_t> raw = IdxImages(4, 2, 2);
    std::vector<uint8_t> first(raw.begin(), raw.begin() + 10);
    std::vector<uint8_t> second(raw.begin() + 10, raw.end());
    std::vector<uint8_t> gz = Gzip(first);
    const std::vector<uint8_t> gz2 = Gzip(second);
    gz.insert(gz.end(), gz2.begin(), gz2.end());
    WriteBytes(dir.File("cat.gz"), gz);
    CHECK(ReadFileMaybeGzip(dir.File("cat.gz")) == raw);
}

TEST_CASE("IDX errors name the file and what was expected", "[data][readers]")
{
    ScratchDir dir("idxerr");
    Dataset d;
    RequireInputError([&] { ReadIdxImages(dir.File("absent"), d); }, {"absent", "cannot open"});

    std::vector<uint8_t> img = IdxImages(3, 4, 4);
    img.pop_back();
    WriteBytes(dir.File("short"), img);
    RequireInputError([&] { ReadIdxImages(dir.File("short"), d); },
                      {"short", "truncated", "expected 64"});

    img.push_back(0);
    img.push_back(0);
    WriteBytes(dir.File("long"), img);
    RequireInputError([&] { ReadIdxImages(dir.File("long"), d); }, {"long", "oversized"});

    WriteBytes(dir.File("labels-as-images"), IdxLabels(LABELS5));
    RequireInputError([&] { ReadIdxImages(dir.File("labels-as-images"), d); },
                      {"labels-as-images", "magic 2049", "expected 2051"});
    WriteBytes(dir.File("images-as-labels"), IdxImages(2, 2, 2));
    RequireInputError([&] { ReadIdxLabels(dir.File("images-as-labels"), d); },
                      {"images-as-labels", "expected 2049"});

    WriteBytes(dir.File("bad-label"), IdxLabels({1, 2, 10}));
    RequireInputError([&] { ReadIdxLabels(dir.File("bad-label"), d); },
                      {"bad-label", "label 10", "sample 2"});

    WriteBytes(dir.File("img3"), IdxImages(3, 2, 2));
    WriteBytes(dir.File("lab5"), IdxLabels(LABELS5));
    RequireInputError([&] { ReadIdxPair(dir.File("img3"), dir.File("lab5"), "mnist"); },
                      {"lab5", "5 labels", "3 images"});

    std::vector<uint8_t> gz = Gzip(IdxImages(3, 8, 8));
    gz.resize(gz.size() / 2);
    WriteBytes(dir.File("cut.gz"), gz);
    RequireInputError([&] { ReadIdxImages(dir.File("cut.gz"), d); }, {"cut.gz", "gzip"});

    std::vector<uint8_t> corrupt = Gzip(IdxImages(3, 8, 8));
    for (size_t i = 12; i < corrupt.size() - 8; i += 3)
    {
        corrupt[i] ^= 0x5a;
    }
    WriteBytes(dir.File("corrupt.gz"), corrupt);
    RequireInputError([&] { ReadIdxImages(dir.File("corrupt.gz"), d); }, {"corrupt.gz"});
}

TEST_CASE("every truncated prefix of an IDX file (plain or gzip) is an InputError",
          "[data][readers]")
{
    ScratchDir dir("prefix");
    const std::vector<uint8_t> raw = IdxImages(2, 3, 3);
    const std::vector<uint8_t> gz = Gzip(raw);
    for (const auto* full : {&raw, &gz})
    {
        for (size_t len = 0; len < full->size(); ++len)
        {
            WriteBytes(dir.File("p"), std::vector<uint8_t>(full->begin(), full->begin() + len));
            Dataset d;
            INFO("prefix length " << len);
            REQUIRE_THROWS_AS(ReadIdxImages(dir.File("p"), d), InputError);
        }
    }
}

TEST_CASE("CIFAR-10 binary batches are read planar, appended, and checked", "[data][readers]")
{
    ScratchDir dir("cifar");
    WriteBytes(dir.File("b1.bin"), CifarBatch({6, 9, 9}));
    WriteBytes(dir.File("b2.bin"), CifarBatch({4, 1}));
    Dataset d;
    ReadCifar10Batch(dir.File("b1.bin"), d);
    ReadCifar10Batch(dir.File("b2.bin"), d);
    REQUIRE(d.Size() == 5);
    CHECK(d.labels == std::vector<uint8_t>{6, 9, 9, 4, 1});
    CHECK(d.SampleShape() == Shape{3, 32, 32});
    REQUIRE(d.pixels.size() == 5 * 3072);
    // Record 1 of the second file is sample 4; its G plane starts at byte 1024 of the sample.
    CHECK(d.Sample(4)[1024 + 5] == PatternPixel(1, 1024 + 5));
    CHECK(d.Sample(2)[3071] == PatternPixel(2, 3071));

    std::vector<uint8_t> cut = CifarBatch({1, 2});
    cut.resize(cut.size() - 100);
    WriteBytes(dir.File("cut.bin"), cut);
    RequireInputError([&] { ReadCifar10Batch(dir.File("cut.bin"), d); },
                      {"cut.bin", "3073", "30730000"});
    WriteBytes(dir.File("empty.bin"), {});
    RequireInputError([&] { ReadCifar10Batch(dir.File("empty.bin"), d); }, {"empty.bin"});
    WriteBytes(dir.File("label.bin"), CifarBatch({3, 12}));
    RequireInputError([&] { ReadCifar10Batch(dir.File("label.bin"), d); },
                      {"label.bin", "record 1", "label 12"});
    RequireInputError([&] { ReadCifar10Batch(dir.File("nope.bin"), d); }, {"nope.bin"});
}

TEST_CASE("digits CSV (plain and gzip) maps 0..16 to 0..255", "[data][readers]")
{
    ScratchDir dir("digits");
    std::string line1, line2;
    for (int p = 0; p < 64; ++p)
    {
        line1 += std::to_string(p % 17) + ",";
        line2 += std::to_string(16 - p % 17) + ".0,";
    }
    const std::string text = line1 + "3\n" + line2 + "7\r\n\n";
    WriteBytes(dir.File("d.csv"), std::vector<uint8_t>(text.begin(), text.end()));
    WriteBytes(dir.File("d.csv.gz"), Gzip(std::vector<uint8_t>(text.begin(), text.end())));
    for (const char* f : {"d.csv", "d.csv.gz"})
    {
        Dataset d = ReadDigitsCsv(dir.File(f));
        REQUIRE(d.Size() == 2);
        CHECK(d.labels == std::vector<uint8_t>{3, 7});
        CHECK(d.SampleShape() == Shape{1, 8, 8});
        CHECK(d.Sample(0)[0] == 0);
        CHECK(d.Sample(0)[8] == 128); // 8 * 255 / 16 = 127.5, rounded half up
        CHECK(d.Sample(0)[16] == 255);
        CHECK(d.Sample(1)[0] == 255);
        CHECK(d.Sample(1)[1] == 239); // 15 * 255 / 16 = 239.06
    }

    auto bad = [&](const std::string& name, const std::string& body,
                   std::initializer_list<std::string> parts) {
        WriteBytes(dir.File(name), std::vector<uint8_t>(body.begin(), body.end()));
        RequireInputError([&] { ReadDigitsCsv(dir.File(name)); }, parts);
    };
    bad("short.csv", line1.substr(0, line1.size() - 1) + "\n",
        {"short.csv:1", "64 fields", "expected 64 pixels"});
    bad("long.csv", line1 + "1,2\n", {"long.csv:1", "more than 65"});
    bad("pixel.csv", "17," + line1.substr(line1.find(',') + 1) + "1\n", {"pixel.csv:1", "17"});
    bad("label.csv", line1 + "12\n", {"label.csv:1", "label 12"});
    bad("text.csv", line1 + "x\n", {"text.csv:1", "field 65"});
    bad("empty.csv", "", {"empty.csv", "no samples"});
}

TEST_CASE("the committed Fashion-MNIST sample reads (real gzip IDX files)", "[data][readers]")
{
    const std::string dir = std::string(SLSIM_SOURCE_DIR) + "/tests/fixtures/data/fashion-mnist-3";
    Dataset d = ReadIdxPair(dir + "/train-images-idx3-ubyte.gz",
                            dir + "/train-labels-idx1-ubyte.gz", "fashion-mnist");
    REQUIRE(d.Size() == 3);
    CHECK(d.SampleShape() == Shape{1, 28, 28});
    CHECK(d.labels == std::vector<uint8_t>{9, 0, 0}); // datasets.md: 9 0 0 3 0 2 7 2 5 5
    size_t nonZero = 0;
    for (uint8_t v : d.pixels)
    {
        nonZero += v != 0;
    }
    CHECK(nonZero > 300); // real images, not blank
}

TEST_CASE("LoadDataset reads a folder, applies subsets and explains a missing folder",
          "[data][readers]")
{
    ScratchDir dir("load");
    const std::vector<uint8_t> trainLabels{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1};
    WriteBytes(dir.File("train-images-idx3-ubyte"), IdxImages(12, 28, 28));
    WriteBytes(dir.File("train-labels-idx1-ubyte"), IdxLabels(trainLabels));
    WriteBytes(dir.File("t10k-images-idx3-ubyte.gz"), Gzip(IdxImages(4, 28, 28)));
    WriteBytes(dir.File("t10k-labels-idx1-ubyte.gz"), Gzip(IdxLabels({3, 2, 1, 0})));
    DatasetConfig cfg;
    cfg.name = "mnist";
    cfg.path = dir.Path();
    Dataset train = LoadDataset(cfg, true, 1);
    Dataset test = LoadDataset(cfg, false, 1);
    CHECK(train.Size() == 12);
    CHECK(train.name == "mnist");
    CHECK(test.labels == std::vector<uint8_t>{3, 2, 1, 0});

    cfg.trainSubset = 5;
    cfg.testSubset = 2;
    train = LoadDataset(cfg, true, 1);
    CHECK(train.labels == std::vector<uint8_t>{0, 1, 2, 3, 4});
    CHECK(train.pixels.size() == 5 * 784);
    CHECK(train.Sample(4)[100] == PatternPixel(4, 100));
    CHECK(LoadDataset(cfg, false, 1).labels == std::vector<uint8_t>{3, 2});

    cfg.subsetRandom = true;
    Dataset a = LoadDataset(cfg, true, 7);
    Dataset b = LoadDataset(cfg, true, 7);
    CHECK(a.labels == b.labels);
    CHECK(a.pixels == b.pixels);
    REQUIRE(a.Size() == 5);
    // Each kept sample is intact (pixels and label of one original sample), in original order.
    DatasetConfig all = cfg;
    all.trainSubset = 0;
    const Dataset full = LoadDataset(all, true, 1);
    bool differsFromFirst = false;
    for (int seed = 1; seed <= 5; ++seed)
    {
        Dataset s = LoadDataset(cfg, true, static_cast<uint64_t>(seed));
        differsFromFirst = differsFromFirst || s.labels != train.labels;
        size_t next = 0;
        for (size_t i = 0; i < s.Size(); ++i)
        {
            size_t j = next;
            while (j < full.Size() && !std::equal(s.Sample(i), s.Sample(i) + 784, full.Sample(j)))
            {
                ++j;
            }
            REQUIRE(j < full.Size());
            CHECK(s.labels[i] == full.labels[j]);
            next = j + 1;
        }
    }
    CHECK(differsFromFirst);

    cfg.path = dir.File("nowhere");
    RequireInputError([&] { LoadDataset(cfg, true, 1); }, {"nowhere", "scripts/fetch-data mnist"});
    cfg.path = dir.Path();
    cfg.name = "cifar10";
    RequireInputError([&] { LoadDataset(cfg, true, 1); },
                      {"data_batch_1.bin", "scripts/fetch-data cifar10"});
    cfg.name = "cifar100";
    RequireInputError([&] { LoadDataset(cfg, true, 1); }, {"dataset.name", "cifar100"});
}

TEST_CASE("mutated files never crash a reader: they load or throw InputError", "[data][readers]")
{
    ScratchDir dir("mutate");
    std::string csv;
    for (int line = 0; line < 3; ++line)
    {
        for (int p = 0; p < 64; ++p)
        {
            csv += std::to_string((p + line) % 17) + ",";
        }
        csv += std::to_string(line) + "\n";
    }
    const std::vector<std::pair<std::vector<uint8_t>, int>> seeds{
        {IdxImages(3, 5, 5), 0},
        {IdxLabels({1, 2, 3}), 1},
        {Gzip(IdxImages(3, 5, 5)), 0},
        {CifarBatch({1, 2}), 2},
        {std::vector<uint8_t>(csv.begin(), csv.end()), 3},
        {Gzip(std::vector<uint8_t>(csv.begin(), csv.end())), 3},
    };
    Rng rng(17, "mutate");
    size_t thrown = 0;
    for (const auto& [bytes, kind] : seeds)
    {
        for (int t = 0; t < 150; ++t)
        {
            std::vector<uint8_t> m = bytes;
            const int edits = 1 + static_cast<int>(rng.UniformInt(4));
            for (int e = 0; e < edits; ++e)
            {
                const size_t at = static_cast<size_t>(rng.UniformInt(m.size()));
                switch (rng.UniformInt(3))
                {
                case 0:
                    m[at] = static_cast<uint8_t>(rng.UniformInt(256));
                    break;
                case 1:
                    m.erase(m.begin() + static_cast<std::ptrdiff_t>(at));
                    break;
                default:
                    m.insert(m.begin() + static_cast<std::ptrdiff_t>(at),
                             static_cast<uint8_t>(rng.UniformInt(256)));
                }
                if (m.empty())
                {
                    m.push_back(0);
                }
            }
            WriteBytes(dir.File("m"), m);
            try
            {
                Dataset d;
                switch (kind)
                {
                case 0:
                    ReadIdxImages(dir.File("m"), d);
                    REQUIRE(d.pixels.size() % d.SampleSize() == 0);
                    break;
                case 1:
                    ReadIdxLabels(dir.File("m"), d);
                    break;
                case 2:
                    ReadCifar10Batch(dir.File("m"), d);
                    REQUIRE(d.pixels.size() == d.Size() * 3072);
                    break;
                default:
                    d = ReadDigitsCsv(dir.File("m"));
                    REQUIRE(d.pixels.size() == d.Size() * 64);
                }
            }
            catch (const InputError&)
            {
                ++thrown;
            }
        }
    }
    CHECK(thrown > 300); // most mutations are caught
}

TEST_CASE("dataset files are checked against the model's input before pixels are read",
          "[data][readers]")
{
    ScratchDir dir("inspect");
    // Consistent IDX files of 16x16 images: the model of an "mnist" scenario takes 1x28x28.
    WriteBytes(dir.File("train-images-idx3-ubyte"), IdxImages(5, 16, 16));
    WriteBytes(dir.File("train-labels-idx1-ubyte"), IdxLabels(LABELS5));
    WriteBytes(dir.File("t10k-images-idx3-ubyte.gz"), Gzip(IdxImages(5, 28, 28)));
    WriteBytes(dir.File("t10k-labels-idx1-ubyte"), IdxLabels(LABELS5));
    DatasetConfig config;
    config.name = "mnist";
    config.path = dir.Path();
    CHECK(DatasetSampleShape(config) == (Shape{1, 28, 28}));
    RequireInputError([&] { InspectDataset(config, true); },
                      {"train-images-idx3-ubyte", "1x16x16", "1x28x28"});
    RequireInputError([&] { LoadDataset(config, true, 1); },
                      {"train-images-idx3-ubyte", "1x16x16"});
    CHECK(InspectDataset(config, false) == 5); // the gzip header is read through zlib
    config.testSubset = 3;
    CHECK(InspectDataset(config, false) == 3);
    CHECK(LoadDataset(config, false, 1).Size() == 3);

    // Image and label counts that disagree, and a label beyond the classes, from the headers.
    WriteBytes(dir.File("train-images-idx3-ubyte"), IdxImages(4, 28, 28));
    RequireInputError([&] { InspectDataset(config, true); },
                      {"train-labels-idx1-ubyte", "5 labels", "4 images"});
    WriteBytes(dir.File("train-images-idx3-ubyte"), IdxImages(5, 28, 28));
    WriteBytes(dir.File("train-labels-idx1-ubyte"), IdxLabels({1, 2, 3, 4, 10}));
    RequireInputError([&] { InspectDataset(config, true); }, {"train-labels-idx1-ubyte", "10"});

    // CIFAR-10: the label bytes of every record are read without the pixels.
    WriteBytes(dir.File("c.bin"), CifarBatch({1, 2}));
    CHECK(InspectCifar10Batch(dir.File("c.bin")) == 2);
    WriteBytes(dir.File("c.bin"), CifarBatch({1, 2, 11}));
    RequireInputError([&] { InspectCifar10Batch(dir.File("c.bin")); }, {"c.bin", "label 11"});
}

TEST_CASE("a CIFAR-10 subset reads only its records: the same samples as the whole read",
          "[data][readers]")
{
    ScratchDir dir("cifar-subset");
    // Five training batches of 3 records and a test batch of 4; labels tell the records apart.
    for (int b = 1; b <= 5; ++b)
    {
        WriteBytes(dir.File("data_batch_" + std::to_string(b) + ".bin"),
                   CifarBatch({static_cast<uint8_t>(b), static_cast<uint8_t>((b + 3) % 10),
                               static_cast<uint8_t>((b + 6) % 10)}));
    }
    WriteBytes(dir.File("test_batch.bin"), CifarBatch({9, 8, 7, 6}));
    DatasetConfig cfg;
    cfg.name = "cifar10";
    cfg.path = dir.Path();
    DatasetConfig whole = cfg;
    // The subset of the whole read (ApplySubset, the same stream) is what LoadDataset returns.
    const auto check = [&](size_t count, bool random, uint64_t seed, bool train) {
        cfg.trainSubset = train ? count : 0;
        cfg.testSubset = train ? 0 : count;
        cfg.subsetRandom = random;
        Dataset expected = LoadDataset(whole, train, seed);
        Rng rng(seed, "subset", train ? 0 : 1);
        ApplySubset(expected, count, random, rng);
        const Dataset got = LoadDataset(cfg, train, seed);
        CHECK(got.labels == expected.labels);
        CHECK(got.pixels == expected.pixels);
        CHECK(got.SampleShape() == (Shape{3, 32, 32}));
        CHECK(got.classes == 10);
        CHECK(got.name == "cifar10");
    };
    for (uint64_t seed = 1; seed <= 4; ++seed)
    {
        check(7, true, seed, true);
        check(1, true, seed, true);
        check(14, true, seed, true);
        check(2, true, seed, false);
    }
    check(5, false, 1, true);
    check(15, true, 1, true); // the whole split
    // A gzip batch: read whole, then the subset (the same samples).
    const std::vector<uint8_t> third = CifarBatch({3, 6, 9});
    std::remove(dir.File("data_batch_3.bin").c_str());
    WriteBytes(dir.File("data_batch_3.bin.gz"), Gzip(third));
    check(7, true, 2, true);

    // ReadCifar10Records itself: records past the end and bad labels are errors naming the file.
    WriteBytes(dir.File("a.bin"), CifarBatch({1, 2}));
    WriteBytes(dir.File("b.bin"), CifarBatch({3, 12}));
    Dataset d;
    CHECK(ReadCifar10Records({dir.File("a.bin")}, {0, 1}, d));
    CHECK(d.labels == std::vector<uint8_t>{1, 2});
    RequireInputError([&] { ReadCifar10Records({dir.File("a.bin")}, {2}, d); },
                      {"a.bin", "record 2", "past the end"});
    RequireInputError(
        [&] {
            ReadCifar10Records({dir.File("a.bin"), dir.File("b.bin")}, {3}, d);
        },
        {"b.bin", "record 1", "label 12"});
    CHECK_FALSE(ReadCifar10Records({dir.File("data_batch_3.bin.gz")}, {0}, d));
}
