/*
 * _blockcount: a native Unicorn block hook that counts how often each translated block runs.
 *
 * The hook is registered with uc_hook_add(UC_HOOK_BLOCK) from Python (ctypes) with a
 * counter as its user data, so no Python code runs per block. Blocks are keyed by start
 * address and size: blocks starting in the code range [base, base + span) have a
 * direct-mapped entry (one per halfword), every other block goes to an open-addressing
 * hash table. Python turns counts into instructions afterwards (each block decoded once).
 *
 * The instruction budget is enforced in blocks: every block holds at least one
 * instruction, so stopping when blocks > budget never stops a run that is within budget;
 * Python checks the exact total against the budget after the run.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*stop_fn)(void *uc);

typedef struct {
    uint64_t key; /* address << 32 | size */
    uint64_t count;
    uint64_t used;
} slot;

typedef struct {
    uint64_t size; /* 0 = no block seen here yet */
    uint64_t count;
} dslot;

typedef struct {
    dslot *direct;
    uint64_t base;
    uint64_t span;
    uint64_t blocks;   /* block executions since reset */
    uint64_t budget;   /* stop once blocks exceed this */
    uint64_t last_key; /* the block entered last: where a stop inside a block happened */
    slot *slots;
    uint64_t mask;     /* hash capacity - 1, a power of two */
    uint64_t used;
    stop_fn stop;
    int stopped;
    int oom;
    uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0 = none */
    int timed_out;
} counter;

/* How often (in blocks) the hook reads the clock for the wall-clock limit. */
#define CLOCK_EVERY 4096

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

static slot *lookup(slot *slots, uint64_t mask, uint64_t key)
{
    uint64_t i = mix(key) & mask;
    while (slots[i].used && slots[i].key != key) {
        i = (i + 1) & mask;
    }
    return &slots[i];
}

static int grow(counter *c)
{
    uint64_t cap = (c->mask + 1) * 2;
    slot *fresh = calloc(cap, sizeof(slot));
    if (fresh == NULL) {
        return -1;
    }
    for (uint64_t i = 0; i <= c->mask; i++) {
        if (c->slots[i].used) {
            *lookup(fresh, cap - 1, c->slots[i].key) = c->slots[i];
        }
    }
    free(c->slots);
    c->slots = fresh;
    c->mask = cap - 1;
    return 0;
}

static void over_budget(void *uc, counter *c)
{
    if (!c->stopped) {
        c->stopped = 1;
        c->stop(uc);
    }
}

static void slow_path(void *uc, counter *c, uint64_t key)
{
    if ((c->used + 1) * 2 > c->mask + 1 && grow(c) != 0) {
        c->oom = 1;
        c->stop(uc);
        return;
    }
    slot *s = lookup(c->slots, c->mask, key);
    if (!s->used) {
        s->used = 1;
        s->key = key;
        c->used++;
    }
    s->count++;
}

static void block_hook(void *uc, uint64_t address, uint32_t size, void *user)
{
    counter *c = (counter *)user;
    uint64_t off = address - c->base;
    c->last_key = (address << 32) | size;
    if (__builtin_expect(off < c->span, 1)) {
        dslot *d = &c->direct[off >> 1];
        if (__builtin_expect(d->size == size, 1)) {
            d->count++;
        } else if (d->size == 0) {
            d->size = size;
            d->count = 1;
        } else {
            slow_path(uc, c, c->last_key);
        }
    } else {
        slow_path(uc, c, c->last_key);
    }
    if (__builtin_expect(++c->blocks > c->budget, 0)) {
        over_budget(uc, c);
    }
    /* The wall-clock limit, checked here instead of by emu_start's timeout, whose watchdog
     * thread spins on usleep(2) for the whole run. */
    if (__builtin_expect((c->blocks % CLOCK_EVERY) == 0, 0) && c->deadline_ns &&
        !c->timed_out && now_ns() > c->deadline_ns) {
        c->timed_out = 1;
        c->stop(uc);
    }
}


static counter *get(PyObject *arg)
{
    counter *c = (counter *)PyLong_AsVoidPtr(arg);
    if (c == NULL && !PyErr_Occurred()) {
        PyErr_SetString(PyExc_ValueError, "null counter");
    }
    return c;
}

static PyObject *bc_new(PyObject *self, PyObject *args)
{
    PyObject *stop;
    unsigned long long base, span;
    if (!PyArg_ParseTuple(args, "OKK", &stop, &base, &span)) {
        return NULL;
    }
    void *fn = PyLong_AsVoidPtr(stop);
    if (fn == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "null uc_emu_stop");
        }
        return NULL;
    }
    counter *c = calloc(1, sizeof(counter));
    if (c == NULL) {
        return PyErr_NoMemory();
    }
    c->mask = 255;
    c->slots = calloc(c->mask + 1, sizeof(slot));
    c->base = base;
    c->span = span & ~1ULL;
    c->direct = calloc(c->span / 2 + 1, sizeof(dslot));
    if (c->slots == NULL || c->direct == NULL) {
        free(c->slots);
        free(c->direct);
        free(c);
        return PyErr_NoMemory();
    }
    c->stop = (stop_fn)fn;
    c->budget = UINT64_MAX;
    return PyLong_FromVoidPtr(c);
}

static PyObject *bc_free(PyObject *self, PyObject *arg)
{
    counter *c = get(arg);
    if (c == NULL) {
        return NULL;
    }
    free(c->direct);
    free(c->slots);
    free(c);
    Py_RETURN_NONE;
}

static PyObject *bc_hook_address(PyObject *self, PyObject *noargs)
{
    return PyLong_FromVoidPtr((void *)block_hook);
}

static PyObject *bc_reset(PyObject *self, PyObject *args)
{
    PyObject *ptr;
    unsigned long long budget, deadline = 0;
    if (!PyArg_ParseTuple(args, "OK|K", &ptr, &budget, &deadline)) {
        return NULL;
    }
    counter *c = get(ptr);
    if (c == NULL) {
        return NULL;
    }
    for (uint64_t i = 0; i <= c->mask; i++) {
        c->slots[i].count = 0;
    }
    for (uint64_t i = 0; i < c->span / 2; i++) {
        c->direct[i].count = 0;
    }
    c->blocks = 0;
    c->budget = budget;
    c->last_key = 0;
    c->stopped = 0;
    c->oom = 0;
    c->deadline_ns = deadline;
    c->timed_out = 0;
    Py_RETURN_NONE;
}

/* results(ptr) -> (keys: bytes of uint64, counts: bytes of uint64) for blocks that ran */
static PyObject *bc_results(PyObject *self, PyObject *arg)
{
    counter *c = get(arg);
    if (c == NULL) {
        return NULL;
    }
    uint64_t n = 0;
    for (uint64_t i = 0; i <= c->mask; i++) {
        n += c->slots[i].used && c->slots[i].count;
    }
    for (uint64_t i = 0; i < c->span / 2; i++) {
        n += c->direct[i].count != 0;
    }
    PyObject *keys = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * 8));
    PyObject *counts = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * 8));
    if (keys == NULL || counts == NULL) {
        Py_XDECREF(keys);
        Py_XDECREF(counts);
        return NULL;
    }
    uint64_t *k = (uint64_t *)PyBytes_AS_STRING(keys);
    uint64_t *v = (uint64_t *)PyBytes_AS_STRING(counts);
    uint64_t j = 0;
    for (uint64_t i = 0; i < c->span / 2; i++) {
        if (c->direct[i].count) {
            k[j] = ((c->base + 2 * i) << 32) | c->direct[i].size;
            v[j] = c->direct[i].count;
            j++;
        }
    }
    for (uint64_t i = 0; i <= c->mask; i++) {
        if (c->slots[i].used && c->slots[i].count) {
            k[j] = c->slots[i].key;
            v[j] = c->slots[i].count;
            j++;
        }
    }
    return Py_BuildValue("(NN)", keys, counts);
}

/* state(ptr) -> (blocks, last_key, stopped, oom) */
static PyObject *bc_state(PyObject *self, PyObject *arg)
{
    counter *c = get(arg);
    if (c == NULL) {
        return NULL;
    }
    return Py_BuildValue("(KKiii)", (unsigned long long)c->blocks,
                         (unsigned long long)c->last_key, c->stopped, c->oom, c->timed_out);
}

/*
 * The access check: a native code hook on chosen load/store instructions that computes the
 * address each one will access from its registers before it executes, and records it when
 * it breaks a rule: ALIGN (the address is not a multiple of the instruction's alignment)
 * or BOUNDS (a store that lands in [lo, hi) outside the allowed spans of the running op);
 * the memory check (mode 2) keeps a shadow byte per byte of RAM, and the area count
 * (mode 3) counts, per instruction, the loads and stores that start in given spans and the
 * executions whose address is misaligned in a way the Cortex-M7 pays for; the watch
 * (mode 4) stops the run before the first read or write of [lo, hi) (a script's access
 * breakpoint, or a SIGNAL's rwatch/wwatch).
 * Python decodes each instruction once (capstone) into an entry; no Python code runs per
 * access. A memory hook would be simpler, but Unicorn 2.1 mis-executes some Thumb code
 * while one is installed.
 */
#define ACHECK_MAX_FOUND 256
#define ACHECK_MAX_SPANS 8
typedef int (*reg_read_fn)(void *uc, int regid, void *value);

typedef struct {
    uint32_t pc;
    int32_t base;  /* Unicorn register id */
    int32_t index; /* Unicorn register id, or -1 */
    int32_t shift;
    int32_t disp;
    uint32_t size;
    uint8_t need;  /* alignment in bytes */
    uint8_t post;  /* post-indexed: the access is at the base */
    uint8_t down;  /* decrement-before register lists */
    uint8_t write;
    uint8_t sp;    /* the base register is SP (a stack access) */
    uint8_t rule;  /* area count: which misalignment costs (ALIGN_COST_*), 0 none */
} acc_entry;

/* Area count: run-time address facts the M7 pipeline pays for (datamem.py). */
#define ALIGN_COST_LOAD 1  /* a single load: the address is not a multiple of its size */
#define ALIGN_COST_STM 2   /* a store multiple of an even count: not 8-byte aligned */
#define AREA_COUNTS 3      /* per entry: loads in the spans, stores in them, misaligned */

typedef struct {
    reg_read_fn reg_read;
    stop_fn stop;
    int mode;      /* 0: alignment, 1: bounds, 2: memory check, 3: area count, 4: watch */
    int n;
    acc_entry *tab;
    /* bounds */
    uint64_t lo, hi;
    int current;   /* the running op, -1 for none */
    int nspans;
    uint64_t span_lo[ACHECK_MAX_SPANS], span_hi[ACHECK_MAX_SPANS];
    /* memory check (mode 2): a shadow byte per byte of [lo, hi) */
    uint8_t *shadow;
    int suspended;         /* inside the allocator: mark writes, check nothing */
    uint64_t stack_limit;  /* SP-based stores below this are reported */
    /* findings: one per (op, pc) */
    int nfound, reported;
    uint64_t f_pc[ACHECK_MAX_FOUND], f_addr[ACHECK_MAX_FOUND];
    uint32_t f_size[ACHECK_MAX_FOUND];
    int32_t f_op[ACHECK_MAX_FOUND];
    uint8_t f_write[ACHECK_MAX_FOUND];
    /* area count (mode 3): per entry, loads and stores that start in one of the spans and
     * misaligned executions; the last hooked instruction and the counters it added to, so
     * a stop before that instruction ran can take its counts back */
    uint64_t *area;
    uint64_t last_pc;
    uint64_t *last_hit[2];
} acheck;

static const acc_entry *acc_find(const acheck *c, uint32_t pc)
{
    int lo = 0, hi = c->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (c->tab[mid].pc == pc) {
            return &c->tab[mid];
        }
        if (c->tab[mid].pc < pc) {
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return NULL;
}

static int acc_seen(const acheck *c, uint32_t pc)
{
    for (int i = 0; i < c->nfound; i++) {
        if (c->f_pc[i] == pc && c->f_op[i] == c->current) {
            return 1;
        }
    }
    return 0;
}

/* Shadow bits of the memory check. */
#define SH_WRITTEN 1u  /* written since reset (by the CPU or the loader) */
#define SH_ARENA 2u    /* inside the heap arena */
#define SH_LIVE 4u     /* inside a live heap block */
/* Finding kinds (reported in the op field). */
#define MK_HEAP_WRITE 1     /* store into the heap arena outside any live block */
#define MK_STACK 2          /* SP-based store below the stack limit */
#define MK_UNINIT 3         /* read of bytes never written */
#define MK_HEAP_READ 4      /* read of the heap arena outside any live block */

static void mem_record(acheck *c, uint64_t pc, uint32_t a, uint32_t size, int write, int kind)
{
    for (int i = 0; i < c->nfound; i++) {
        if (c->f_pc[i] == pc && c->f_op[i] == kind) {
            return;
        }
    }
    if (c->nfound >= ACHECK_MAX_FOUND) {
        return;
    }
    int k = c->nfound++;
    c->f_pc[k] = pc;
    c->f_addr[k] = a;
    c->f_size[k] = size;
    c->f_op[k] = kind;
    c->f_write[k] = (uint8_t)write;
}

static void mem_access(void *uc, acheck *c, uint64_t pc, const acc_entry *e, uint32_t a)
{
    uint32_t sp = 0;
    uint64_t lo = a, hi = (uint64_t)a + e->size;
    if (hi <= c->lo || lo >= c->hi) {
        return; /* not RAM the check watches (flash, peripherals) */
    }
    if (lo < c->lo) {
        lo = c->lo;
    }
    if (hi > c->hi) {
        hi = c->hi;
    }
    uint8_t *sh = c->shadow + (lo - c->lo);
    size_t n = (size_t)(hi - lo);
    if (e->write) {
        if (!c->suspended) {
            if (e->sp && a < c->stack_limit) {
                mem_record(c, pc, a, e->size, 1, MK_STACK);
            }
            for (size_t i = 0; i < n && !e->sp; i++) {
                if ((sh[i] & (SH_ARENA | SH_LIVE)) == SH_ARENA) {
                    c->reg_read(uc, 12 /* UC_ARM_REG_SP */, &sp);
                    if (lo + i < sp) { /* at or above SP it is the live stack */
                        mem_record(c, pc, (uint32_t)(lo + i), e->size, 1, MK_HEAP_WRITE);
                    }
                    break;
                }
            }
        }
        for (size_t i = 0; i < n; i++) {
            sh[i] |= SH_WRITTEN;
        }
        return;
    }
    if (c->suspended) {
        return;
    }
    /* reads: only an access with every byte outside live blocks (or never written)
     * counts, so word-wise string scans that read past a terminator are not reported */
    size_t unwritten = 0, outside = 0;
    for (size_t i = 0; i < n; i++) {
        outside += !e->sp && (sh[i] & (SH_ARENA | SH_LIVE)) == SH_ARENA;
        unwritten += !(sh[i] & SH_WRITTEN);
    }
    if (outside == n) {
        c->reg_read(uc, 12 /* UC_ARM_REG_SP */, &sp);
        if (lo < sp) {
            mem_record(c, pc, (uint32_t)lo, e->size, 0, MK_HEAP_READ);
            return;
        }
    }
    if (unwritten == n) {
        mem_record(c, pc, a, e->size, 0, MK_UNINIT);
    }
}

static void check_hook(void *uc, uint64_t address, uint32_t isize, void *user)
{
    (void)isize;
    acheck *c = (acheck *)user;
    if (c->mode == 1 && c->current < 0) {
        return;
    }
    const acc_entry *e = acc_find(c, (uint32_t)address);
    if (e == NULL) {
        return;
    }
    uint32_t a = 0;
    c->reg_read(uc, e->base, &a);
    if (!e->post) {
        if (e->index >= 0) {
            uint32_t ix = 0;
            c->reg_read(uc, e->index, &ix);
            a += ix << e->shift;
        }
        a += (uint32_t)e->disp;
        if (e->down) {
            a -= e->size;
        }
    }
    if (c->mode == 2) {
        mem_access(uc, c, address, e, a);
        return;
    }
    if (c->mode == 4) {
        /* watch: the first access that touches [lo, hi) and is of a kind asked for
         * (current: 1 reads, 2 writes) stops the run before it executes */
        uint64_t lo = a, hi = (uint64_t)a + e->size;
        if (hi <= c->lo || lo >= c->hi || !(c->current & (e->write ? 2 : 1))) {
            return;
        }
        if (c->nfound < ACHECK_MAX_FOUND) {
            int k = c->nfound++;
            c->f_pc[k] = address;
            c->f_addr[k] = a;
            c->f_size[k] = e->size;
            c->f_op[k] = c->current;
            c->f_write[k] = e->write;
        }
        c->stop(uc);
        return;
    }
    if (c->mode == 3) {
        uint64_t *row = &c->area[AREA_COUNTS * (size_t)(e - c->tab)];
        c->last_pc = address;
        c->last_hit[0] = c->last_hit[1] = NULL;
        for (int i = 0; i < c->nspans; i++) {
            if (c->span_lo[i] <= a && a < c->span_hi[i]) {
                c->last_hit[0] = &row[e->write];
                break;
            }
        }
        if ((e->rule == ALIGN_COST_LOAD && (a & (e->size - 1))) ||
            (e->rule == ALIGN_COST_STM && (a & 7))) {
            c->last_hit[1] = &row[2];
        }
        for (int i = 0; i < 2; i++) {
            if (c->last_hit[i] != NULL) {
                (*c->last_hit[i])++;
            }
        }
        return;
    }
    if (c->mode == 0) {
        if ((a & (uint32_t)(e->need - 1)) == 0) {
            return;
        }
    } else {
        uint64_t lo = a, hi = (uint64_t)a + e->size;
        if (hi <= c->lo || lo >= c->hi) {
            return;
        }
        for (int i = 0; i < c->nspans; i++) {
            if (c->span_lo[i] <= lo && hi <= c->span_hi[i]) {
                return;
            }
        }
    }
    if (c->nfound >= ACHECK_MAX_FOUND || acc_seen(c, (uint32_t)address)) {
        return;
    }
    int k = c->nfound++;
    c->f_pc[k] = address;
    c->f_addr[k] = a;
    c->f_size[k] = c->mode == 0 ? e->need : e->size;
    c->f_op[k] = c->current;
    c->f_write[k] = e->write;
    if (c->mode == 0) {
        c->stop(uc); /* the chip faults here */
    }
}

static acheck *acheck_get(PyObject *arg)
{
    acheck *c = (acheck *)PyLong_AsVoidPtr(arg);
    if (c == NULL && !PyErr_Occurred()) {
        PyErr_SetString(PyExc_ValueError, "null access check");
    }
    return c;
}

/* check_new(stop, reg_read, mode, entries: bytes of acc_entry sorted by pc, lo, hi) */
static PyObject *ac_new(PyObject *self, PyObject *args)
{
    PyObject *stop, *reg_read;
    int mode;
    const char *buf;
    Py_ssize_t len;
    unsigned long long lo, hi;
    if (!PyArg_ParseTuple(args, "OOiy#KK", &stop, &reg_read, &mode, &buf, &len, &lo, &hi)) {
        return NULL;
    }
    if (len % (Py_ssize_t)sizeof(acc_entry)) {
        PyErr_SetString(PyExc_ValueError, "entries are not a whole number of records");
        return NULL;
    }
    acheck *c = calloc(1, sizeof(acheck));
    if (c == NULL) {
        return PyErr_NoMemory();
    }
    c->n = (int)(len / (Py_ssize_t)sizeof(acc_entry));
    c->tab = malloc((size_t)len + 1);
    if (c->tab == NULL) {
        free(c);
        return PyErr_NoMemory();
    }
    memcpy(c->tab, buf, (size_t)len);
    c->stop = (stop_fn)PyLong_AsVoidPtr(stop);
    c->reg_read = (reg_read_fn)PyLong_AsVoidPtr(reg_read);
    c->mode = mode;
    c->lo = lo;
    c->hi = hi;
    c->current = -1;
    if (mode == 3) {
        c->area = calloc(AREA_COUNTS * (size_t)c->n + 1, sizeof(uint64_t));
        if (c->area == NULL) {
            free(c->tab);
            free(c);
            return PyErr_NoMemory();
        }
    }
    if (mode == 2) {
        c->shadow = calloc((size_t)(hi - lo) + 1, 1);
        if (c->shadow == NULL) {
            free(c->tab);
            free(c);
            return PyErr_NoMemory();
        }
    }
    return PyLong_FromVoidPtr(c);
}

static PyObject *ac_free(PyObject *self, PyObject *arg)
{
    acheck *c = acheck_get(arg);
    if (c == NULL) {
        return NULL;
    }
    free(c->tab);
    free(c->shadow);
    free(c->area);
    free(c);
    Py_RETURN_NONE;
}

/* mem_mark(check, lo, hi, set_bits, clear_bits): shadow bits over [lo, hi) */
static PyObject *ac_mem_mark(PyObject *self, PyObject *args)
{
    PyObject *ptr;
    unsigned long long lo, hi;
    unsigned int set, clear;
    if (!PyArg_ParseTuple(args, "OKKII", &ptr, &lo, &hi, &set, &clear)) {
        return NULL;
    }
    acheck *c = acheck_get(ptr);
    if (c == NULL) {
        return NULL;
    }
    if (c->shadow == NULL) {
        PyErr_SetString(PyExc_ValueError, "not a memory check");
        return NULL;
    }
    if (lo < c->lo) {
        lo = c->lo;
    }
    if (hi > c->hi) {
        hi = c->hi;
    }
    for (unsigned long long a = lo; a < hi; a++) {
        uint8_t *b = &c->shadow[a - c->lo];
        *b = (uint8_t)((*b & ~clear) | set);
    }
    Py_RETURN_NONE;
}

/* mem_state(check, suspended, stack_limit) */
static PyObject *ac_mem_state(PyObject *self, PyObject *args)
{
    PyObject *ptr;
    int suspended;
    unsigned long long limit;
    if (!PyArg_ParseTuple(args, "OiK", &ptr, &suspended, &limit)) {
        return NULL;
    }
    acheck *c = acheck_get(ptr);
    if (c == NULL) {
        return NULL;
    }
    c->suspended = suspended;
    c->stack_limit = limit;
    Py_RETURN_NONE;
}

static PyObject *ac_hook_address(PyObject *self, PyObject *noargs)
{
    return PyLong_FromVoidPtr((void *)check_hook);
}

/* check_set_op(check, op index or -1, [(lo, hi), ...]) */
static PyObject *ac_set_op(PyObject *self, PyObject *args)
{
    PyObject *ptr, *spans;
    int op;
    if (!PyArg_ParseTuple(args, "OiO", &ptr, &op, &spans)) {
        return NULL;
    }
    acheck *c = acheck_get(ptr);
    if (c == NULL) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Size(spans);
    if (n < 0 || n > ACHECK_MAX_SPANS) {
        PyErr_SetString(PyExc_ValueError, "too many spans");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PySequence_GetItem(spans, i);
        unsigned long long a, b;
        if (t == NULL || !PyArg_ParseTuple(t, "KK", &a, &b)) {
            Py_XDECREF(t);
            return NULL;
        }
        Py_DECREF(t);
        c->span_lo[i] = a;
        c->span_hi[i] = b;
    }
    c->nspans = (int)n;
    c->current = op;
    Py_RETURN_NONE;
}

/* check_take(check) -> [(pc, address, size, is_write, op)] found since the last take */
static PyObject *ac_take(PyObject *self, PyObject *arg)
{
    acheck *c = acheck_get(arg);
    if (c == NULL) {
        return NULL;
    }
    PyObject *out = PyList_New(c->nfound - c->reported);
    if (out == NULL) {
        return NULL;
    }
    for (int i = c->reported; i < c->nfound; i++) {
        PyObject *t = Py_BuildValue("(KKiii)", (unsigned long long)c->f_pc[i],
                                    (unsigned long long)c->f_addr[i], (int)c->f_size[i],
                                    (int)c->f_write[i], (int)c->f_op[i]);
        if (t == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i - c->reported, t);
    }
    c->reported = c->nfound;
    return out;
}

/* area_counts(check, zero) -> bytes of uint64 (loads and stores in the spans, misaligned)
 * per entry in pc order; zero clears them (a new run) */
static PyObject *ac_area_counts(PyObject *self, PyObject *args)
{
    PyObject *ptr;
    int zero;
    if (!PyArg_ParseTuple(args, "Op", &ptr, &zero)) {
        return NULL;
    }
    acheck *c = acheck_get(ptr);
    if (c == NULL) {
        return NULL;
    }
    if (c->area == NULL) {
        PyErr_SetString(PyExc_ValueError, "not an area count");
        return NULL;
    }
    size_t bytes = AREA_COUNTS * (size_t)c->n * sizeof(uint64_t);
    PyObject *out = PyBytes_FromStringAndSize((const char *)c->area, (Py_ssize_t)bytes);
    if (out != NULL && zero) {
        memset(c->area, 0, bytes);
        c->last_hit[0] = c->last_hit[1] = NULL;
    }
    return out;
}

/* area_uncount(check, pc): a stop hook ended the run before the instruction at pc ran, after
 * the area hook counted it: take that count back */
static PyObject *ac_area_uncount(PyObject *self, PyObject *args)
{
    PyObject *ptr;
    unsigned long long pc;
    if (!PyArg_ParseTuple(args, "OK", &ptr, &pc)) {
        return NULL;
    }
    acheck *c = acheck_get(ptr);
    if (c == NULL) {
        return NULL;
    }
    int taken = 0;
    for (int i = 0; i < 2; i++) {
        if (c->last_hit[i] != NULL && c->last_pc == pc) {
            (*c->last_hit[i])--;
            taken = 1;
        }
        c->last_hit[i] = NULL;
    }
    return PyBool_FromLong(taken);
}

static PyMethodDef methods[] = {
    {"new", bc_new, METH_VARARGS,
     "new(uc_emu_stop address, code base, code span) -> counter pointer"},
    {"free", bc_free, METH_O, "free(counter)"},
    {"hook_address", bc_hook_address, METH_NOARGS, "address of the C block hook"},
    {"reset", bc_reset, METH_VARARGS,
     "reset(counter, budget in blocks[, deadline in CLOCK_MONOTONIC ns]): zero the counts"},
    {"results", bc_results, METH_O, "results(counter) -> (keys, counts) as bytes"},
    {"state", bc_state, METH_O,
     "state(counter) -> (blocks, last_key, stopped, oom, timed_out)"},
    {"check_new", ac_new, METH_VARARGS,
     "check_new(uc_emu_stop, uc_reg_read, mode, entries, lo, hi) -> access check"},
    {"check_free", ac_free, METH_O, "check_free(check)"},
    {"check_hook_address", ac_hook_address, METH_NOARGS, "address of the C code hook"},
    {"check_set_op", ac_set_op, METH_VARARGS, "check_set_op(check, op, spans)"},
    {"mem_mark", ac_mem_mark, METH_VARARGS,
     "mem_mark(check, lo, hi, set_bits, clear_bits): shadow bits of the memory check"},
    {"mem_state", ac_mem_state, METH_VARARGS,
     "mem_state(check, suspended, stack_limit)"},
    {"area_counts", ac_area_counts, METH_VARARGS,
     "area_counts(check, zero) -> (loads, stores in the spans, misaligned) per entry as "
     "bytes of uint64"},
    {"area_uncount", ac_area_uncount, METH_VARARGS,
     "area_uncount(check, pc) -> True when the count of the unexecuted access at pc was taken "
     "back"},
    {"check_take", ac_take, METH_O,
     "check_take(check) -> [(pc, address, size, is_write, op)] since the last take"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_blockcount",
    "Native Unicorn block hook counting block executions.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__blockcount(void)
{
    return PyModule_Create(&module);
}
