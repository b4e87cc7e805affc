/**
 * @file armsim_tflm_main.cc
 * @brief armsim's TensorFlow Lite Micro application: the model's flatbuffer in flash, a
 *        MicroMutableOpResolver holding exactly the model's operators, a MicroInterpreter
 *        over a static arena, and a loop of inferences the emulator drives.
 *
 * The emulator stops at the marker functions below (each a real, never-inlined call):
 *
 *   armsim_tflm_allocate_begin/_end  around AllocateTensors (its cost, once)
 *   armsim_tflm_ready                 inputs may be written (tensor addresses in the table)
 *   armsim_tflm_invoke_begin/_end     around Invoke (the inference's cost)
 *   armsim_tflm_failed                AllocateTensors or Invoke failed (status, log in RAM)
 *
 * Built three ways (defines): plain (what a deployment runs); ARMSIM_TFLM_PROFILE adds a
 * MicroProfilerInterface whose BeginEvent/EndEvent tail-call armsim_tflm_op_begin/_end, so
 * the emulator sees each operator's start and end; ARMSIM_TFLM_RECORD uses TFLM's recording
 * allocator and leaves its breakdown of the arena in armsim_tflm_arena_report.
 *
 * The model-specific parts come from the generated armsim_tflm_model.h:
 *   ARMSIM_TFLM_OPS              the number of operator types to register
 *   ARMSIM_TFLM_ADD_OPS(r)       one `ARMSIM_ADD(r.AddXxx())` per operator type
 *   ARMSIM_TFLM_TENSORS          tensors in subgraph 0 (the address table's length)
 *   ARMSIM_TFLM_VARIABLES        resource variables (VAR_HANDLE ops; 0: none)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <new>

#include "armsim_tflm_model.h"
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#include "tensorflow/lite/micro/micro_allocator.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_log.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/micro/micro_resource_variable.h"
#include "tensorflow/lite/micro/recording_micro_allocator.h"
#include "tensorflow/lite/schema/schema_generated.h"

extern "C" {
/* The model (model.S: .incbin, 16-byte aligned, in flash) and the arena (arena.c). */
extern const uint8_t armsim_model[];
extern uint8_t armsim_arena[];
extern const uint32_t armsim_arena_size;

/* What the emulator reads and writes. ------------------------------------------------ */
/** Stages, in armsim_tflm_status. */
enum {
  ARMSIM_TFLM_STARTING = 0,
  ARMSIM_TFLM_BAD_SCHEMA = 1,
  ARMSIM_TFLM_RESOLVER_FAILED = 2,
  ARMSIM_TFLM_ALLOCATOR_FAILED = 3,
  ARMSIM_TFLM_ALLOCATE_FAILED = 4,
  ARMSIM_TFLM_READY = 5,
  ARMSIM_TFLM_INVOKE_FAILED = 6,
  ARMSIM_TFLM_RESET_FAILED = 7,
};
volatile int32_t armsim_tflm_status;
/** Bytes of the arena the emulator lets TFLM use (0: all of it): how the smallest arena is
 *  searched on one build. Not zeroed by the start-up code (the emulator writes it). */
__attribute__((section(".noinit"))) volatile uint32_t armsim_tflm_arena_limit;
/** arena_used_bytes() after AllocateTensors. */
volatile uint32_t armsim_tflm_arena_used;
/** Subgraph 0's tensor data addresses after AllocateTensors (0: no data). */
volatile uint32_t armsim_tflm_tensors[ARMSIM_TFLM_TENSORS];
/** TFLM's log (MicroPrintf), as it would reach a UART. */
#define ARMSIM_TFLM_LOG_BYTES 2048
char armsim_tflm_log[ARMSIM_TFLM_LOG_BYTES];
volatile uint32_t armsim_tflm_log_len;
#if defined(ARMSIM_TFLM_RECORD)
/** The recording allocator's breakdown: used, persistent (tail), non-persistent (head), then
 *  (requested, used, count) per RecordedAllocationType. */
volatile uint32_t armsim_tflm_arena_report[3 + 3 * 7];
#endif

#define ARMSIM_MARKER __attribute__((noinline, used))
ARMSIM_MARKER void armsim_tflm_allocate_begin(void) { __asm volatile("" ::: "memory"); }
ARMSIM_MARKER void armsim_tflm_allocate_end(void) { __asm volatile("" ::: "memory"); }
ARMSIM_MARKER void armsim_tflm_ready(void) { __asm volatile("" ::: "memory"); }
ARMSIM_MARKER void armsim_tflm_invoke_begin(void) { __asm volatile("" ::: "memory"); }
ARMSIM_MARKER void armsim_tflm_invoke_end(void) { __asm volatile("" ::: "memory"); }
ARMSIM_MARKER void armsim_tflm_failed(int32_t status)
{
  armsim_tflm_status = status;
  __asm volatile("" ::: "memory");
}
ARMSIM_MARKER void armsim_tflm_halted(void)
{
  /* TFLM's abort (a failed DCHECK prints "HALTED" and spins): stop instead of spinning. */
  __asm volatile("1: bkpt #2\n\tb 1b");
}
ARMSIM_MARKER uint32_t armsim_tflm_op_begin(void *self, const char *tag)
{
  (void)self;
  (void)tag;
  __asm volatile("" ::: "memory");
  return 0;
}
ARMSIM_MARKER void armsim_tflm_op_end(void *self, uint32_t handle)
{
  (void)self;
  (void)handle;
  __asm volatile("" ::: "memory");
}

/* Bare-metal C++ support (no crt files: -nostartfiles). ------------------------------- */
void *__dso_handle = nullptr;
void __cxa_pure_virtual(void) { armsim_tflm_halted(); }
void _init(void) {}
void _fini(void) {}
/** abort() and exit() end here (newlib's, through libnosys otherwise spinning forever). */
void _exit(int status)
{
  (void)status;
  armsim_tflm_halted();
  for (;;) {
  }
}
/** The heap newlib's vsnprintf may ask for, from the end of RAM data up. */
extern char end;
void *_sbrk(ptrdiff_t incr)
{
  static char *brk = &end;
  char *prev = brk;
  brk += incr;
  return prev;
}
}  // extern "C"

namespace {

void log_line(const char *s)
{
  uint32_t n = armsim_tflm_log_len;
  while (*s != '\0' && n < ARMSIM_TFLM_LOG_BYTES - 1) {
    armsim_tflm_log[n++] = *s++;
  }
  armsim_tflm_log[n] = '\0';
  armsim_tflm_log_len = n;
}

void on_log(const char *s)
{
  log_line(s);
  if (strncmp(s, "HALTED", 6) == 0) {
    armsim_tflm_halted();
  }
}

#if defined(ARMSIM_TFLM_PROFILE)
/** Each operator's start and end, seen by the emulator (which keeps the nesting). */
class ArmsimProfiler : public tflite::MicroProfilerInterface {
 public:
  uint32_t BeginEvent(const char *tag) override { return armsim_tflm_op_begin(this, tag); }
  void EndEvent(uint32_t handle) override { armsim_tflm_op_end(this, handle); }
};
alignas(ArmsimProfiler) uint8_t profiler_storage[sizeof(ArmsimProfiler)];
#endif

using Resolver = tflite::MicroMutableOpResolver<ARMSIM_TFLM_OPS>;
alignas(Resolver) uint8_t resolver_storage[sizeof(Resolver)];
alignas(tflite::MicroInterpreter) uint8_t interpreter_storage[sizeof(tflite::MicroInterpreter)];

/** The interpreter, with access to its context (tensor addresses without preserving all). */
class Interpreter : public tflite::MicroInterpreter {
 public:
  using tflite::MicroInterpreter::MicroInterpreter;
  const TfLiteContext &ctx() const { return context(); }
};

int fail(int32_t status)
{
  armsim_tflm_failed(status);
  return static_cast<int>(status);
}

}  // namespace

#define ARMSIM_ADD(call)                                                              \
  do {                                                                                \
    if ((call) != kTfLiteOk) {                                                        \
      return fail(ARMSIM_TFLM_RESOLVER_FAILED);                                       \
    }                                                                                 \
  } while (0)

int main(void)
{
  RegisterDebugLogCallback(on_log);
  armsim_tflm_status = ARMSIM_TFLM_STARTING;
  armsim_tflm_allocate_begin();
  const tflite::Model *model = tflite::GetModel(armsim_model);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    MicroPrintf("Model provided is schema version %d not equal to supported version %d.",
                static_cast<int>(model->version()), TFLITE_SCHEMA_VERSION);
    return fail(ARMSIM_TFLM_BAD_SCHEMA);
  }
  Resolver *resolver = new (resolver_storage) Resolver();
  Resolver &r = *resolver;
  ARMSIM_TFLM_ADD_OPS(r);

  uint32_t size = armsim_arena_size;
  if (armsim_tflm_arena_limit != 0 && armsim_tflm_arena_limit < size) {
    size = armsim_tflm_arena_limit;
  }
#if defined(ARMSIM_TFLM_RECORD)
  tflite::RecordingMicroAllocator *allocator =
      tflite::RecordingMicroAllocator::Create(armsim_arena, size);
#else
  tflite::MicroAllocator *allocator = tflite::MicroAllocator::Create(armsim_arena, size);
#endif
  if (allocator == nullptr) {
    return fail(ARMSIM_TFLM_ALLOCATOR_FAILED);
  }
  tflite::MicroResourceVariables *variables = nullptr;
#if ARMSIM_TFLM_VARIABLES > 0
  variables = tflite::MicroResourceVariables::Create(allocator, ARMSIM_TFLM_VARIABLES);
  if (variables == nullptr) {
    return fail(ARMSIM_TFLM_ALLOCATOR_FAILED);
  }
#endif
  tflite::MicroProfilerInterface *profiler = nullptr;
#if defined(ARMSIM_TFLM_PROFILE)
  profiler = new (profiler_storage) ArmsimProfiler();
#endif
  Interpreter *interpreter =
      new (interpreter_storage) Interpreter(model, r, allocator, variables, profiler);
  if (interpreter->AllocateTensors() != kTfLiteOk) {
    return fail(ARMSIM_TFLM_ALLOCATE_FAILED);
  }
  armsim_tflm_arena_used = interpreter->arena_used_bytes();
#if defined(ARMSIM_TFLM_RECORD)
  {
    const tflite::RecordingSingleArenaBufferAllocator *a =
        allocator->GetSimpleMemoryAllocator();
    armsim_tflm_arena_report[0] = a->GetUsedBytes();
    armsim_tflm_arena_report[1] = a->GetPersistentUsedBytes();
    armsim_tflm_arena_report[2] = a->GetNonPersistentUsedBytes();
    for (int k = 0; k < 7; ++k) {
      tflite::RecordedAllocation rec = allocator->GetRecordedAllocation(
          static_cast<tflite::RecordedAllocationType>(k));
      armsim_tflm_arena_report[3 + 3 * k] = rec.requested_bytes;
      armsim_tflm_arena_report[4 + 3 * k] = rec.used_bytes;
      armsim_tflm_arena_report[5 + 3 * k] = rec.count;
    }
  }
#endif
  const TfLiteContext &ctx = interpreter->ctx();
  for (int i = 0; i < ARMSIM_TFLM_TENSORS; ++i) {
    TfLiteEvalTensor *t = ctx.GetEvalTensor(&ctx, i);
    armsim_tflm_tensors[i] = t != nullptr ? reinterpret_cast<uint32_t>(t->data.data) : 0u;
  }
  armsim_tflm_allocate_end();

  for (uint32_t run = 0;; ++run) {
    /* Every inference starts from the state after AllocateTensors (variable tensors of
     * SVDF and LSTM cleared), as the host reference does. */
    if (run > 0 && interpreter->Reset() != kTfLiteOk) {
      return fail(ARMSIM_TFLM_RESET_FAILED);
    }
    armsim_tflm_status = ARMSIM_TFLM_READY;
    armsim_tflm_ready();
    armsim_tflm_invoke_begin();
    TfLiteStatus status = interpreter->Invoke();
    armsim_tflm_invoke_end();
    if (status != kTfLiteOk) {
      return fail(ARMSIM_TFLM_INVOKE_FAILED);
    }
  }
}
