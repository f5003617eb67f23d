//===- denseshift-translate.cpp - LLVM-dialect MLIR to a target object ----===//
//
// Takes what `denseshift-opt --denseshift-pipeline=...` produces (a module in
// the LLVM dialect) the rest of the way, in-process: translate to LLVM IR, pin
// triple, CPU, features and data layout, optimize with the new pass manager,
// and emit a PIC object, assembly or LLVM IR, plus an optional C header.
//
//===----------------------------------------------------------------------===//

#include "CHeader.h"

#include "DenseShift/Conversion/ShiftToVector/ShiftToVector.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/ArmNeon/ArmNeonToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/ArmSVE/ArmSVEToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Target/LLVMIR/LLVMTranslationInterface.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/DiagnosticPrinter.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Triple.h"

#include <memory>
#include <optional>
#include <string>

namespace cl = llvm::cl;

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

static cl::OptionCategory toolCategory("denseshift-translate options");

static cl::opt<std::string>
    inputFilename(cl::Positional, cl::desc("<input LLVM-dialect .mlir>"),
                  cl::init("-"), cl::cat(toolCategory));

static cl::opt<std::string>
    outputFilename("o", cl::desc("Output file ('-' is stdout)"),
                   cl::value_desc("file"), cl::init("-"),
                   cl::cat(toolCategory));

static cl::opt<std::string> targetPreset(
    "target",
    cl::desc("Target preset from the target table (--print-targets): "
             "x86-64-avx2 (haswell), x86-64-avx512 (skylake-avx512, 512-bit "
             "vectors preferred), aarch64-neon (neoverse-n1, +neon)"),
    cl::value_desc("preset"), cl::cat(toolCategory));

static cl::opt<bool> printTargets(
    "print-targets",
    cl::desc("Print the target table (name, triple, CPU, features, f32 "
             "lanes, host /proc/cpuinfo flags; tab-separated) and exit"),
    cl::init(false), cl::cat(toolCategory));

static cl::opt<std::string>
    tripleOverride("triple", cl::desc("Target triple (overrides the preset's)"),
                   cl::value_desc("triple"), cl::cat(toolCategory));

static cl::opt<std::string> cpuOverride(
    "cpu", cl::desc("Target CPU (overrides the preset's; default 'generic')"),
    cl::value_desc("name"), cl::cat(toolCategory));

static cl::opt<std::string> featuresOverride(
    "features",
    cl::desc("Comma-separated +feature/-feature list (replaces the preset's)"),
    cl::value_desc("list"), cl::cat(toolCategory));

enum class EmitKind { Object, Assembly, LLVMIR };
static cl::opt<EmitKind> emitKind(
    "emit", cl::desc("What to write"), cl::init(EmitKind::Object),
    cl::values(
        clEnumValN(EmitKind::Object, "obj", "Object file, PIC (default)"),
        clEnumValN(EmitKind::Assembly, "asm", "Target assembly"),
        clEnumValN(EmitKind::LLVMIR, "llvm", "Optimized LLVM IR (text)")),
    cl::cat(toolCategory));

static cl::opt<std::string> headerFilename(
    "header", cl::desc("Also write a C header declaring the public functions"),
    cl::value_desc("file"), cl::cat(toolCategory));

static cl::opt<unsigned>
    optLevel("O", cl::desc("LLVM optimization level 0-3 (default 3)"),
             cl::Prefix, cl::init(3), cl::cat(toolCategory));

// Off by default: the pipeline emits vector code, and LLVM's SLP vectorizer
// found nothing to gain in it (ResNet-18, MobileNetV2, ResNet-20 within
// 0.6%, timed interleaved) while taking a third of the optimizer's time
// (0.8 of 3.3 s for ResNet-20 on a Zen 3 core).
static cl::opt<bool> slpVectorize(
    "slp-vectorize",
    cl::desc("Run LLVM's SLP vectorizer at -O2/-O3 (default off: the "
             "pipeline's code is already vector code)"),
    cl::init(false), cl::cat(toolCategory));

//===----------------------------------------------------------------------===//
// Target selection
//===----------------------------------------------------------------------===//

namespace {

struct TargetConfig {
  llvm::Triple triple;
  std::string cpu;
  std::string features;
  const llvm::Target *target = nullptr;
};

llvm::raw_ostream &error() {
  return llvm::WithColor::error(llvm::errs(), "denseshift-translate");
}

/// Every feature in `features` must be one the target knows; LLVM itself only
/// warns and ignores unknown ones, which would silently change the code.
bool checkFeatures(const llvm::MCSubtargetInfo &subtarget,
                   llvm::StringRef features, const llvm::Triple &triple) {
  llvm::SmallVector<llvm::StringRef> entries;
  features.split(entries, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (llvm::StringRef entry : entries) {
    entry = entry.trim();
    if (!entry.consume_front("+") && !entry.consume_front("-")) {
      error() << "feature '" << entry << "' must start with '+' or '-'\n";
      return false;
    }
    bool known = llvm::any_of(
        subtarget.getAllProcessorFeatures(),
        [&](const llvm::SubtargetFeatureKV &kv) { return entry == kv.Key; });
    if (!known) {
      error() << "unknown feature '" << entry << "' for target '"
              << triple.str() << "'\n";
      return false;
    }
  }
  return true;
}

/// Preset, then per-field overrides; checks triple, CPU and features against
/// the registered LLVM targets.
std::optional<TargetConfig> resolveTarget() {
  TargetConfig config;
  std::string tripleName;
  config.cpu = "generic";
  if (!targetPreset.empty()) {
    std::optional<mlir::shift::TargetInfo> preset =
        mlir::shift::lookupTarget(targetPreset);
    if (!preset) {
      error() << "unknown target preset '" << targetPreset
              << "' (expected one of: " << mlir::shift::knownTargets() << ")\n";
      return std::nullopt;
    }
    tripleName = preset->triple.str();
    config.cpu = preset->cpu.str();
    config.features = preset->features.str();
  } else if (tripleOverride.empty()) {
    error() << "no target: pass --target=<" << mlir::shift::knownTargets()
            << "> or --triple=<triple>\n";
    return std::nullopt;
  }
  if (!tripleOverride.empty())
    tripleName = tripleOverride;
  if (cpuOverride.getNumOccurrences())
    config.cpu = cpuOverride;
  if (featuresOverride.getNumOccurrences())
    config.features = featuresOverride;

  config.triple = llvm::Triple(llvm::Triple::normalize(tripleName));
  std::string lookupError;
  config.target =
      llvm::TargetRegistry::lookupTarget(config.triple, lookupError);
  if (!config.target || config.triple.getArch() == llvm::Triple::UnknownArch) {
    error() << "unknown target triple '" << tripleName << "'"
            << (lookupError.empty() ? "" : ": " + lookupError) << "\n";
    return std::nullopt;
  }

  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      config.target->createMCSubtargetInfo(config.triple, "", ""));
  if (!subtarget) {
    error() << "no subtarget information for '" << config.triple.str() << "'\n";
    return std::nullopt;
  }
  if (!subtarget->isCPUStringValid(config.cpu)) {
    error() << "unknown CPU '" << config.cpu << "' for target '"
            << config.triple.str() << "'\n";
    return std::nullopt;
  }
  if (!checkFeatures(*subtarget, config.features, config.triple))
    return std::nullopt;
  return config;
}

//===----------------------------------------------------------------------===//
// Translation and code generation
//===----------------------------------------------------------------------===//

/// The translation interface rejects foreign ops too, but names neither the
/// op's location nor the fix; say both.
mlir::LogicalResult checkTranslatable(mlir::ModuleOp module) {
  mlir::WalkResult result =
      module.walk<mlir::WalkOrder::PreOrder>(
          [](mlir::Operation *op) {
            mlir::Dialect *dialect = op->getDialect();
            if (dialect && dialect->getRegisteredInterface<
                               mlir::LLVMTranslationDialectInterface>())
              return mlir::WalkResult::advance();
            op->emitError()
                << "'" << op->getName()
                << "' is not in the LLVM dialect; lower the module first "
                   "(denseshift-opt --denseshift-pipeline=...)";
            return mlir::WalkResult::interrupt();
          });
  return mlir::failure(result.wasInterrupted());
}

/// A function lowered for features the chosen target lacks would die in
/// instruction selection (an abort, not a diagnostic): refuse it up front.
bool checkInputFeatures(const llvm::Module &module,
                        const llvm::MCSubtargetInfo &subtarget,
                        const TargetConfig &config) {
  for (const llvm::Function &function : module) {
    llvm::Attribute attr = function.getFnAttribute("target-features");
    if (!attr.isValid())
      continue;
    llvm::SmallVector<llvm::StringRef> entries;
    attr.getValueAsString().split(entries, ',', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef entry : entries) {
      llvm::StringRef name = entry.trim();
      if (!name.consume_front("+"))
        continue;
      bool known = llvm::any_of(
          subtarget.getAllProcessorFeatures(),
          [&](const llvm::SubtargetFeatureKV &kv) { return name == kv.Key; });
      if (known && subtarget.checkFeatures(("+" + name).str()))
        continue;
      error() << "function '" << function.getName() << "' was lowered for '+"
              << name << "', which the target (" << config.triple.str()
              << ", cpu " << config.cpu
              << ") lacks; lower and translate for the same target\n";
      return false;
    }
  }
  return true;
}

/// The target decides for the whole object: every function gets its CPU and
/// features, overriding whatever the input carried.
void pinTarget(llvm::Module &module, llvm::TargetMachine &machine,
               const TargetConfig &config) {
  module.setTargetTriple(machine.getTargetTriple());
  module.setDataLayout(machine.createDataLayout());
  module.setPICLevel(llvm::PICLevel::BigPIC);
  for (llvm::Function &function : module) {
    if (function.isIntrinsic())
      continue;
    function.addFnAttr("target-cpu", config.cpu);
    if (config.features.empty())
      function.removeFnAttr("target-features");
    else
      function.addFnAttr("target-features", config.features);
  }
}

void optimize(llvm::Module &module, llvm::TargetMachine &machine) {
  llvm::LoopAnalysisManager loopAM;
  llvm::FunctionAnalysisManager functionAM;
  llvm::CGSCCAnalysisManager cgsccAM;
  llvm::ModuleAnalysisManager moduleAM;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = optLevel >= 2;
  tuning.SLPVectorization = optLevel >= 2 && slpVectorize;
  llvm::PassBuilder builder(&machine, tuning);
  builder.registerModuleAnalyses(moduleAM);
  builder.registerCGSCCAnalyses(cgsccAM);
  builder.registerFunctionAnalyses(functionAM);
  builder.registerLoopAnalyses(loopAM);
  builder.crossRegisterProxies(loopAM, functionAM, cgsccAM, moduleAM);

  static const llvm::OptimizationLevel levels[] = {
      llvm::OptimizationLevel::O0, llvm::OptimizationLevel::O1,
      llvm::OptimizationLevel::O2, llvm::OptimizationLevel::O3};
  llvm::ModulePassManager passes =
      optLevel == 0 ? builder.buildO0DefaultPipeline(levels[0])
                    : builder.buildPerModuleDefaultPipeline(levels[optLevel]);
  passes.run(module, moduleAM);
}

bool emitMachineCode(llvm::Module &module, llvm::TargetMachine &machine,
                     llvm::raw_fd_ostream &os) {
  std::unique_ptr<llvm::buffer_ostream> buffered;
  llvm::raw_pwrite_stream *out = &os;
  if (emitKind == EmitKind::Object && !os.supportsSeeking()) {
    buffered = std::make_unique<llvm::buffer_ostream>(os);
    out = buffered.get();
  }
  llvm::legacy::PassManager passes;
  llvm::TargetLibraryInfoImpl libraryInfo(machine.getTargetTriple());
  passes.add(new llvm::TargetLibraryInfoWrapperPass(libraryInfo));
  llvm::CodeGenFileType fileType = emitKind == EmitKind::Object
                                       ? llvm::CodeGenFileType::ObjectFile
                                       : llvm::CodeGenFileType::AssemblyFile;
  if (machine.addPassesToEmitFile(passes, *out, nullptr, fileType)) {
    error() << "target '" << machine.getTargetTriple().str()
            << "' cannot emit this file type\n";
    return false;
  }
  passes.run(module);
  return true;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
  llvm::InitializeAllAsmParsers();

  cl::HideUnrelatedOptions(toolCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "DenseShift translator: LLVM-dialect MLIR to an object file, assembly or "
      "LLVM IR\n");

  if (printTargets) {
    for (const mlir::shift::TargetInfo &t : mlir::shift::allTargets())
      llvm::outs() << t.name << '\t' << t.triple << '\t' << t.cpu << '\t'
                   << t.features << '\t' << t.lanes << '\t' << t.hostFlags
                   << '\n';
    return 0;
  }

  if (optLevel > 3) {
    error() << "invalid optimization level -O" << optLevel << " (0-3)\n";
    return 1;
  }
  std::optional<TargetConfig> config = resolveTarget();
  if (!config)
    return 1;

  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(
      config->target->createTargetMachine(
          config->triple, config->cpu, config->features, targetOptions,
          llvm::Reloc::PIC_, std::nullopt,
          optLevel == 0   ? llvm::CodeGenOptLevel::None
          : optLevel == 3 ? llvm::CodeGenOptLevel::Aggressive
                          : llvm::CodeGenOptLevel::Default));
  if (!machine) {
    error() << "cannot create a target machine for '" << config->triple.str()
            << "'\n";
    return 1;
  }

  // Outputs are opened first so an unwritable path fails before any work;
  // they are deleted again unless everything succeeds.
  std::string message;
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputFilename, &message);
  if (!output) {
    error() << message << "\n";
    return 1;
  }
  std::unique_ptr<llvm::ToolOutputFile> header;
  if (!headerFilename.empty()) {
    header = mlir::openOutputFile(headerFilename, &message);
    if (!header) {
      error() << message << "\n";
      return 1;
    }
  }

  std::unique_ptr<llvm::MemoryBuffer> input =
      mlir::openInputFile(inputFilename, &message);
  if (!input) {
    error() << message << "\n";
    return 1;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());

  // All dialects parse, so that a module that was not lowered gets a clear
  // "not in the LLVM dialect" error instead of "dialect not found".
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerArmNeonDialectTranslation(registry);
  mlir::registerArmSVEDialectTranslation(registry);
  mlir::MLIRContext context(registry);
  // Weight constants can be megabytes; a diagnostic shows the location only.
  context.printOpOnDiagnostic(false);
  mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);

  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
  if (!module || mlir::failed(checkTranslatable(*module)))
    return 1;

  llvm::StringRef inputName = inputFilename == "-"
                                  ? llvm::StringRef("stdin")
                                  : llvm::sys::path::filename(inputFilename);
  if (header) {
    std::string banner = "Generated by denseshift-translate from " +
                         inputName.str() + " for " + config->triple.str() +
                         " (cpu " + config->cpu + "). Do not edit.";
    if (mlir::failed(denseshift::writeCHeader(
            *module, llvm::sys::path::stem(headerFilename), banner,
            header->os())))
      return 1;
  }

  llvm::LLVMContext llvmContext;
  bool codegenFailed = false;
  llvmContext.setDiagnosticHandlerCallBack(
      [](const llvm::DiagnosticInfo *info, void *failedFlag) {
        // Optimization remarks are noise here; errors and warnings are not.
        if (info->getSeverity() == llvm::DS_Remark)
          return;
        llvm::raw_ostream &os =
            info->getSeverity() == llvm::DS_Error ? error()
            : info->getSeverity() == llvm::DS_Warning
                ? llvm::WithColor::warning(llvm::errs(), "denseshift-translate")
                : llvm::WithColor::note(llvm::errs(), "denseshift-translate");
        llvm::DiagnosticPrinterRawOStream printer(os);
        info->print(printer);
        os << "\n";
        if (info->getSeverity() == llvm::DS_Error)
          *static_cast<bool *>(failedFlag) = true;
      },
      &codegenFailed);

  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(*module, llvmContext, inputName);
  if (!llvmModule) {
    error() << "failed to translate '" << inputName << "' to LLVM IR\n";
    return 1;
  }
  if (!checkInputFeatures(*llvmModule, *machine->getMCSubtargetInfo(), *config))
    return 1;
  pinTarget(*llvmModule, *machine, *config);
  if (llvm::verifyModule(*llvmModule, &llvm::errs())) {
    error() << "translated LLVM IR does not verify\n";
    return 1;
  }

  optimize(*llvmModule, *machine);

  if (emitKind == EmitKind::LLVMIR)
    llvmModule->print(output->os(), nullptr);
  else if (!emitMachineCode(*llvmModule, *machine, output->os()))
    return 1;
  if (codegenFailed)
    return 1;

  output->keep();
  if (header)
    header->keep();
  return 0;
}
