// Checkpoints in the safetensors format (https://github.com/huggingface/safetensors):
//
//   bytes 0..7   N, u64 little-endian: length of the JSON header
//   bytes 8..8+N JSON object, space-padded to a multiple of 8 bytes:
//                { "__metadata__": {"format": "pt", "producer": "slsim"},
//                  "<name>": {"dtype": "F32", "shape": [64, 3, 3, 3], "data_offsets": [b, e]}, ...}
//   then         the data block; tensor bytes [8 + N + b, 8 + N + e), little-endian, row-major.
//
// Names and layouts are PyTorch's state_dict ones (conv OIHW, linear out x in, BN weight, bias,
// running_mean, running_var, num_batches_tracked as I64 with shape []), so that
// model.load_state_dict(safetensors.torch.load_file(path)) works in PyTorch and vice versa.
#include "common/byte-io.h"
#include "common/csv-writer.h"
#include "common/error.h"
#include "models/safetensors.h"
#include "models/split-model.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace slsim
{

namespace
{

std::vector<NamedTensor>
Collect(const std::vector<Partition*>& parts)
{
    std::vector<NamedTensor> all;
    std::set<std::string> seen;
    for (Partition* p : parts)
    {
        for (NamedTensor& t : p->NamedTensors())
        {
            SLSIM_ASSERT_MSG(seen.insert(t.name).second, "duplicate tensor name in model");
            all.push_back(t);
        }
    }
    return all;
}

void
SaveTensors(const std::string& path, const std::vector<NamedTensor>& tensors)
{
    nlohmann::ordered_json header;
    header["__metadata__"] = {{"format", "pt"}, {"producer", "slsim"}};
    std::vector<uint8_t> data;
    ByteWriter w(data);
    for (const NamedTensor& t : tensors)
    {
        const size_t begin = data.size();
        if (t.kind == NamedTensor::COUNTER)
        {
            w.PutU64(static_cast<uint64_t>(std::llround(static_cast<double>(*t.data))));
        }
        else
        {
            w.PutF32Array(t.data, static_cast<size_t>(t.shape.Numel()));
        }
        header[t.name] = {{"dtype", t.kind == NamedTensor::COUNTER ? "I64" : "F32"},
                          {"shape", t.shape.dims},
                          {"data_offsets", {begin, data.size()}}};
    }
    std::string json = header.dump();
    json.append((8 - json.size() % 8) % 8, ' ');
    std::vector<uint8_t> prefix;
    ByteWriter(prefix).PutU64(json.size());
    std::string content(prefix.begin(), prefix.end());
    content += json;
    content.append(data.begin(), data.end());
    WriteFileAtomic(path, content);
}

void
Save(const std::string& path, const std::vector<Partition*>& parts)
{
    SaveTensors(path, Collect(parts));
}

void
Load(const std::string& path, const std::vector<Partition*>& parts)
{
    const std::map<std::string, SafetensorsTensor> file = ReadSafetensors(path);
    std::set<std::string> used;
    for (const NamedTensor& t : Collect(parts))
    {
        const std::string tw = path + ": tensor " + t.name + ": ";
        auto it = file.find(t.name);
        if (it == file.end())
        {
            throw InputError(tw + "missing");
        }
        const bool counter = t.kind == NamedTensor::COUNTER;
        if (it->second.dtype != (counter ? "I64" : "F32"))
        {
            throw InputError(tw + "dtype " + it->second.dtype + ", expected "
                             + (counter ? "I64" : "F32"));
        }
        if (it->second.shape != t.shape)
        {
            throw InputError(tw + "shape " + it->second.shape.ToString() + ", expected "
                             + t.shape.ToString());
        }
        std::copy(it->second.values.begin(), it->second.values.end(), t.data);
        used.insert(t.name);
    }
    for (const auto& kv : file)
    {
        if (!used.count(kv.first))
        {
            throw InputError(path + ": unexpected tensor " + kv.first + " (not in this model)");
        }
    }
}

/// The partitions of a split model in layer order (the head last, when there is one).
std::vector<Partition*>
Parts(SplitModel& model)
{
    std::vector<Partition*> parts{model.device.get(), model.server.get()};
    if (model.head)
    {
        parts.push_back(model.head.get());
    }
    return parts;
}

} // namespace

std::map<std::string, SafetensorsTensor>
ReadSafetensors(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        throw InputError(path + ": cannot open safetensors file");
    }
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    const std::string where = path + ": ";
    if (bytes.size() < 8)
    {
        throw InputError(where + "not a safetensors file (shorter than 8 bytes)");
    }
    ByteReader r(bytes.data(), bytes.size());
    const uint64_t n = r.GetU64();
    if (n > bytes.size() - 8)
    {
        throw InputError(where + "safetensors header length " + std::to_string(n)
                         + " exceeds the file");
    }
    nlohmann::json header;
    try
    {
        header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
    }
    catch (const nlohmann::json::exception& e)
    {
        throw InputError(where + "bad safetensors header: " + e.what());
    }
    if (!header.is_object())
    {
        throw InputError(where + "safetensors header is not a JSON object");
    }
    const uint8_t* data = bytes.data() + 8 + n;
    const size_t dataSize = bytes.size() - 8 - n;
    std::map<std::string, SafetensorsTensor> out;
    for (auto it = header.begin(); it != header.end(); ++it)
    {
        if (it.key() == "__metadata__")
        {
            continue;
        }
        const std::string tw = where + "tensor " + it.key() + ": ";
        SafetensorsTensor t;
        std::vector<uint64_t> off;
        try
        {
            t.dtype = it->at("dtype").get<std::string>();
            t.shape = Shape(it->at("shape").get<std::vector<int64_t>>());
            off = it->at("data_offsets").get<std::vector<uint64_t>>();
        }
        catch (const nlohmann::json::exception& ex)
        {
            throw InputError(tw + "bad header entry: " + ex.what());
        }
        if (t.dtype != "F32" && t.dtype != "I64")
        {
            throw InputError(tw + "unsupported dtype " + t.dtype + " (F32 or I64)");
        }
        uint64_t numel = 1;
        for (int64_t d : t.shape.dims)
        {
            if (d < 0 || d > (int64_t{1} << 40))
            {
                throw InputError(tw + "bad shape " + t.shape.ToString());
            }
            numel *= static_cast<uint64_t>(d);
        }
        const uint64_t width = t.dtype == "I64" ? 8 : 4;
        if (off.size() != 2 || off[0] > off[1] || off[1] > dataSize
            || off[1] - off[0] != numel * width)
        {
            throw InputError(tw + "data_offsets do not match the shape or the file size");
        }
        ByteReader tr(data + off[0], off[1] - off[0]);
        t.values.resize(numel);
        for (uint64_t i = 0; i < numel; ++i)
        {
            t.values[i] = t.dtype == "I64" ? static_cast<float>(static_cast<int64_t>(tr.GetU64()))
                                           : tr.GetF32();
        }
        out.emplace(it.key(), std::move(t));
    }
    return out;
}

void
WriteSafetensors(const std::string& path, const std::map<std::string, SafetensorsTensor>& tensors)
{
    std::vector<NamedTensor> named;
    for (const auto& kv : tensors)
    {
        SLSIM_ASSERT_MSG(kv.second.dtype == "F32" || kv.second.dtype == "I64",
                         "WriteSafetensors: F32 or I64 only");
        SLSIM_ASSERT_MSG(kv.second.dtype == "F32" || kv.second.values.size() == 1,
                         "WriteSafetensors: I64 tensors hold one value");
        SLSIM_ASSERT(static_cast<int64_t>(kv.second.values.size()) == kv.second.shape.Numel());
        named.push_back({kv.first, kv.second.shape, const_cast<float*>(kv.second.values.data()),
                         kv.second.dtype == "I64" ? NamedTensor::COUNTER : NamedTensor::PARAMETER});
    }
    SaveTensors(path, named); // reads through the pointers only
}

void
SaveCheckpoint(const std::string& path, SplitModel& model)
{
    Save(path, Parts(model));
}

void
SaveCheckpoint(const std::string& path, Partition& model)
{
    Save(path, {&model});
}

void
SaveCheckpoint(const std::string& path, const std::vector<const Partition*>& parts)
{
    // NamedTensors hands out mutable pointers for loading; saving only reads through them.
    std::vector<Partition*> mutableParts;
    for (const Partition* p : parts)
    {
        mutableParts.push_back(const_cast<Partition*>(p));
    }
    Save(path, mutableParts);
}

void
LoadCheckpoint(const std::string& path, SplitModel& model)
{
    Load(path, Parts(model));
}

void
LoadCheckpoint(const std::string& path, Partition& model)
{
    Load(path, {&model});
}

} // namespace slsim
