//===- GenerateCommand.cpp - switchyard generate --------------------------===//

#include "Commands.h"

#include "switchyard/Compiler/Compile.h"
#include "switchyard/Compiler/CompilerContext.h"
#include "switchyard/Compiler/HFImport.h"
#include "switchyard/Runtime/CpuRuntime.h"
#include "switchyard/Runtime/Generate.h"
#include "switchyard/Runtime/Npy.h"
#include "switchyard/Runtime/SafeTensors.h"

#include "absl/time/clock.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace switchyard::runtime;

namespace switchyard::driver {

cl::SubCommand generateCommand(
    "generate",
    "Generation (greedy, sampled or beam search) with a Hugging Face seq2seq "
    "model on the CPU mesh, or with --backend cuda on one GPU (the mesh as "
    "virtual devices). It "
    "compiles two programs for the input's shape: the encoder, run once, and "
    "a decoder step with a key/value cache of --max-new-tokens positions, run "
    "once per new token (compile --program encoder / decoder-step).\n\n"
    "  switchyard generate path/to/model_dir --input input_ids=ids.npy \\\n"
    "      --max-new-tokens 16 --mesh b:2 --layout batch:b\n");

static cl::OptionCategory generateCategory("generate options");
static cl::opt<std::string>
    modelDir(cl::Positional, cl::Required,
             cl::desc("<model directory | config.json>"),
             cl::sub(generateCommand), cl::cat(generateCategory));
static cl::opt<std::string> weightsPath(
    "weights",
    cl::desc("Checkpoint (default: the model directory's model.safetensors "
             "or its sharded index)"),
    cl::value_desc("path"), cl::sub(generateCommand), cl::cat(generateCategory));
static cl::list<std::string> inputSpecs(
    "input",
    cl::desc("input_ids=FILE.npy ([batch, length] integers), and optionally "
             "attention_mask=FILE.npy (default: all ones); or FILE.safetensors "
             "holding them"),
    cl::value_desc("NAME=FILE"), cl::sub(generateCommand),
    cl::cat(generateCategory));
static cl::opt<int64_t> maxNewTokens("max-new-tokens",
                                     cl::desc("Tokens to generate at most"),
                                     cl::init(16), cl::sub(generateCommand),
                                     cl::cat(generateCategory));
static cl::opt<std::string> meshSpec("mesh",
                                     cl::desc("Device mesh (default: one device)"),
                                     cl::value_desc("axes"),
                                     cl::sub(generateCommand),
                                     cl::cat(generateCategory));
static cl::opt<std::string> backendName(
    "backend",
    cl::desc("Where the devices run: cpu (threads, the default) or cuda "
             "(virtual devices on one GPU)"),
    cl::value_desc("cpu|cuda"), cl::init("cpu"), cl::sub(generateCommand),
    cl::cat(generateCategory));
static cl::opt<std::string> layoutSpec("layout", cl::desc("Layout rules"),
                                       cl::value_desc("rules"),
                                       cl::sub(generateCommand),
                                       cl::cat(generateCategory));
static cl::opt<std::string> precision(
    "precision",
    cl::desc("f32, bf16 or f16 for everything but the router, as for compile"),
    cl::value_desc("type"), cl::init("f32"), cl::sub(generateCommand),
    cl::cat(generateCategory));
static cl::opt<bool> doSample(
    "do-sample",
    cl::desc("Draw each token instead of taking the argmax, as transformers' "
             "generate(do_sample=True): the logits divided by --temperature, "
             "cut to --top-k and --top-p, then softmax"),
    cl::sub(generateCommand), cl::cat(generateCategory));
static cl::opt<float> temperature("temperature",
                                  cl::desc("With --do-sample: divides the "
                                           "logits (default 1)"),
                                  cl::init(1.0f), cl::sub(generateCommand),
                                  cl::cat(generateCategory));
static cl::opt<int64_t>
    topK("top-k",
         cl::desc("With --do-sample: keep the tokens whose logit is at least "
                  "the k-th largest; 0 keeps all (default 50, as "
                  "transformers)"),
         cl::init(50), cl::sub(generateCommand), cl::cat(generateCategory));
static cl::opt<float>
    topP("top-p",
         cl::desc("With --do-sample: keep the most probable tokens whose "
                  "probabilities sum to at least p (default 1: all)"),
         cl::init(1.0f), cl::sub(generateCommand), cl::cat(generateCategory));
static cl::opt<uint64_t>
    seed("seed",
         cl::desc("With --do-sample: seeds the draws; the same seed, model and "
                  "inputs give the same tokens (default 0)"),
         cl::init(0), cl::sub(generateCommand), cl::cat(generateCategory));
static cl::opt<int64_t> numBeams(
    "num-beams",
    cl::desc("Beam search with this many beams per row, as transformers' "
             "generate(num_beams=N): each row returns its best finished "
             "hypothesis (default 1: greedy or sampled)"),
    cl::init(1), cl::sub(generateCommand), cl::cat(generateCategory));
static cl::opt<float> lengthPenalty(
    "length-penalty",
    cl::desc("With --num-beams: a finished hypothesis scores its summed log "
             "probabilities over (its new tokens)^p (default 1)"),
    cl::init(1.0f), cl::sub(generateCommand), cl::cat(generateCategory));
static cl::opt<std::string> earlyStopping(
    "early-stopping",
    cl::desc("With --num-beams, as transformers' early_stopping: false (the "
             "default; stop when no running beam can beat the worst finished "
             "one at its current length), true (stop when every row has "
             "num-beams finished hypotheses) or never (as false, at the "
             "longest length when the length penalty is positive)"),
    cl::value_desc("false|true|never"), cl::init("false"),
    cl::sub(generateCommand), cl::cat(generateCategory));
static cl::opt<bool> printTiming(
    "timing",
    cl::desc("Print where the time went: compiling the two programs, the "
             "encoder's run and the decoder steps' runs"),
    cl::sub(generateCommand), cl::cat(generateCategory));
static cl::opt<std::string> outputPath(
    "output", cl::desc("Write the generated ids ([batch, length] i32) here"),
    cl::value_desc("FILE.npy"), cl::sub(generateCommand),
    cl::cat(generateCategory));

static int fail(const absl::Status &status) {
  errs() << "switchyard generate: " << status.ToString() << "\n";
  return 1;
}

/// The start, end and padding token ids of the model's config.json, where
/// it states them (HF-SWITCH-SEMANTICS §4.10, §6.1).
static absl::Status readSpecialTokens(StringRef model,
                                      GenerateOptions &options) {
  SmallString<256> path(model);
  if (sys::fs::is_directory(path))
    sys::path::append(path, "config.json");
  auto file = MemoryBuffer::getFile(path);
  if (!file)
    return absl::NotFoundError(("cannot read " + path + ": " +
                                file.getError().message())
                                   .str());
  Expected<json::Value> config = json::parse((*file)->getBuffer());
  if (!config)
    return absl::InvalidArgumentError(
        (path + ": " + toString(config.takeError())).str());
  if (const json::Object *object = config->getAsObject()) {
    auto read = [&](StringRef key, int32_t &token) {
      if (std::optional<int64_t> value = object->getInteger(key))
        token = static_cast<int32_t>(*value);
    };
    read("decoder_start_token_id", options.decoderStartToken);
    read("eos_token_id", options.eosToken);
    read("pad_token_id", options.padToken);
  }
  return absl::OkStatus();
}

int runGenerate() {
  std::map<std::string, HostTensor> inputs;
  std::vector<std::pair<std::string, absl::StatusOr<HostTensor>>> given;
  for (const std::string &spec : inputSpecs) {
    if (StringRef(spec).ends_with(".safetensors") && !StringRef(spec).contains('=')) {
      absl::StatusOr<Checkpoint> file = Checkpoint::open(spec);
      if (!file.ok())
        return fail(file.status());
      for (const char *name : {"input_ids", "attention_mask"})
        if (file->find(name))
          given.push_back({name, file->read(name)});
      continue;
    }
    auto [name, path] = StringRef(spec).split('=');
    given.push_back({name.str(), readNpy(path.str())});
  }
  for (auto &[name, read] : given) {
    if (name != "input_ids" && name != "attention_mask")
      return fail(absl::InvalidArgumentError(
          "--input takes input_ids=FILE.npy or attention_mask=FILE.npy, got '" +
          name + "'"));
    absl::StatusOr<HostTensor> tensor = std::move(read);
    if (tensor.ok())
      tensor = narrowToInt32(std::move(*tensor), name);
    if (!tensor.ok())
      return fail(tensor.status());
    inputs.insert_or_assign(name, std::move(*tensor));
  }
  auto ids = inputs.find("input_ids");
  if (ids == inputs.end() || ids->second.rank() != 2)
    return fail(absl::InvalidArgumentError(
        "give --input input_ids=FILE.npy with a [batch, length] array"));
  int64_t batch = ids->second.shape()[0], length = ids->second.shape()[1];
  if (!inputs.count("attention_mask")) {
    absl::StatusOr<HostTensor> ones =
        HostTensor::allocate(DType::I32, {batch, length});
    if (!ones.ok())
      return fail(ones.status());
    for (int32_t &value : ones->span<int32_t>())
      value = 1;
    inputs.emplace("attention_mask", std::move(*ones));
  }

  if (maxNewTokens < 1)
    return fail(
        absl::InvalidArgumentError("--max-new-tokens must be at least 1, got " +
                                   std::to_string(maxNewTokens)));
  GenerateOptions options;
  options.maxNewTokens = maxNewTokens;
  options.sampling = {doSample, temperature, topK, topP, seed};
  if (!doSample) {
    for (const cl::Option *option : std::initializer_list<const cl::Option *>{
             &temperature, &topK, &topP, &seed})
      if (option->getNumOccurrences())
        return fail(absl::InvalidArgumentError(
            ("--" + option->ArgStr + " needs --do-sample").str()));
  } else if (absl::Status status = checkSampling(options.sampling);
             !status.ok()) {
    return fail(status);
  }
  using EarlyStopping = BeamOptions::EarlyStopping;
  std::optional<EarlyStopping> stopping =
      StringSwitch<std::optional<EarlyStopping>>(earlyStopping)
          .Case("false", EarlyStopping::Heuristic)
          .Case("true", EarlyStopping::Always)
          .Case("never", EarlyStopping::Never)
          .Default(std::nullopt);
  if (!stopping)
    return fail(absl::InvalidArgumentError(
        "--early-stopping takes false, true or never, got '" + earlyStopping +
        "'"));
  options.beams = {numBeams, lengthPenalty, *stopping};
  if (numBeams < 1)
    return fail(absl::InvalidArgumentError(
        "--num-beams must be at least 1, got " + std::to_string(numBeams)));
  if (numBeams > 1 && doSample)
    return fail(absl::InvalidArgumentError(
        "--num-beams and --do-sample together (beam sampling) are not "
        "supported"));
  if (numBeams == 1)
    for (const cl::Option *option : std::initializer_list<const cl::Option *>{
             &lengthPenalty, &earlyStopping})
      if (option->getNumOccurrences())
        return fail(absl::InvalidArgumentError(
            ("--" + option->ArgStr + " needs --num-beams above 1").str()));

  std::string checkpointPath = weightsPath;
  if (checkpointPath.empty())
    checkpointPath = StringRef(modelDir).ends_with(".json")
                         ? sys::path::parent_path(modelDir).str()
                         : modelDir.getValue();
  absl::StatusOr<Checkpoint> checkpoint = Checkpoint::open(checkpointPath);
  if (!checkpoint.ok())
    return fail(checkpoint.status());

  // The two programs of cached generation, for these shapes.
  CompilerContext compiler;
  auto compileProgram = [&](HFProgram program) -> std::optional<Executable> {
    // The decoder step decodes every beam of every row.
    int64_t rows = program == HFProgram::DecoderStep ? batch * numBeams : batch;
    HFImportOptions importOptions{rows, length, maxNewTokens, program};
    importOptions.hasWeight = checkpointHas(*checkpoint);
    auto module =
        importHuggingFaceModel(compiler.get(), modelDir, importOptions);
    if (failed(module))
      return std::nullopt;
    CompileOptions compileOptions{meshSpec, layoutSpec, "", false};
    compileOptions.precision = precision;
    FailureOr<std::string> bytes =
        compileToExecutable(**module, compileOptions);
    if (failed(bytes))
      return std::nullopt;
    absl::StatusOr<Executable> executable =
        Executable::loadBytes(std::move(*bytes), modelDir);
    if (!executable.ok()) {
      fail(executable.status());
      return std::nullopt;
    }
    return std::move(*executable);
  };
  const absl::Time compileStart = absl::Now();
  std::optional<Executable> encoderProgram = compileProgram(HFProgram::Encoder);
  if (!encoderProgram)
    return 1;
  std::optional<Executable> stepProgram =
      compileProgram(HFProgram::DecoderStep);
  if (!stepProgram)
    return 1;
  const absl::Duration compileTime = absl::Now() - compileStart;

  CheckpointWeightSource weights(*checkpoint);
  absl::StatusOr<std::unique_ptr<Session>> encoder =
      createSession(backendName, *encoderProgram, &weights);
  if (!encoder.ok())
    return fail(encoder.status());
  absl::StatusOr<std::unique_ptr<Session>> decoderStep =
      createSession(backendName, *stepProgram, &weights);
  if (!decoderStep.ok())
    return fail(decoderStep.status());
  if (absl::Status status = readSpecialTokens(modelDir, options);
      !status.ok())
    return fail(status);
  GenerateStats stats;
  absl::StatusOr<HostTensor> generated =
      generate(**encoder, **decoderStep, std::move(inputs), options, &stats);
  if (!generated.ok())
    return fail(generated.status());

  int64_t steps = generated->shape()[1];
  for (int64_t b = 0; b < batch; ++b) {
    outs() << "[";
    llvm::interleaveComma(
        ArrayRef(generated->span<int32_t>().data() + b * steps, steps), outs());
    outs() << "]\n";
  }
  if (printTiming) {
    auto ms = [](absl::Duration d) {
      return formatv("{0:f3} ms", absl::ToDoubleMilliseconds(d)).str();
    };
    outs() << "compile (encoder, decoder step): " << ms(compileTime) << "\n"
           << "encoder: " << ms(stats.encoder) << "\n"
           << "decoder steps: " << stats.steps << " x, "
           << ms(stats.decoderSteps / std::max<int64_t>(stats.steps, 1))
           << " each\n";
  }
  if (!outputPath.empty())
    if (absl::Status status = writeNpy(outputPath, *generated); !status.ok())
      return fail(status);
  return 0;
}

} // namespace switchyard::driver
