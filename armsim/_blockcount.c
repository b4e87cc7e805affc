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
} counter;

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
    unsigned long long budget;
    if (!PyArg_ParseTuple(args, "OK", &ptr, &budget)) {
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
    return Py_BuildValue("(KKii)", (unsigned long long)c->blocks,
                         (unsigned long long)c->last_key, c->stopped, c->oom);
}

static PyMethodDef methods[] = {
    {"new", bc_new, METH_VARARGS,
     "new(uc_emu_stop address, code base, code span) -> counter pointer"},
    {"free", bc_free, METH_O, "free(counter)"},
    {"hook_address", bc_hook_address, METH_NOARGS, "address of the C block hook"},
    {"reset", bc_reset, METH_VARARGS, "reset(counter, budget in blocks): zero the counts"},
    {"results", bc_results, METH_O, "results(counter) -> (keys, counts) as bytes"},
    {"state", bc_state, METH_O, "state(counter) -> (blocks, last_key, stopped, oom)"},
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
