/* The compiled form of fifo.py's ordering and matching loop (`_in_fifo_order` + `_match_in_order`).
 *
 * Owns nothing but speed: fifo.py stays the reference, and this module gives the same matches, in the
 * same order, built from the same objects, or declines. `Matcher(...).match(fills)` returns
 * (open_books, matches) as `_match_in_order` does (the same books, perhaps in another order; the matches
 * as a tuple), or None when the fills are outside its fast
 * path: a fill that is not exactly a `Fill`, a time that is not an aware datetime with a fixed-offset
 * `datetime.timezone`, an order id or qty that is not an exact int within 64 bits, and every invalid
 * fill. On None the caller runs the Python code, which orders, validates and names the offending fill
 * by its own rules; so this module never raises a ValueError of its own. Decimal arithmetic goes
 * through the Decimal type's own operators in the caller's decimal context, so `decimal.Inexact`
 * (and any other trapped signal) is raised at the same fill as in Python.
 *
 * Order: a fill's key is (UTC microseconds, order id, input position): all distinct, so an unstable
 * sort gives exactly the stable two-pass order of `_in_fifo_order`. Aware datetimes with
 * `datetime.timezone` tzinfo compare in Python by their UTC instant, which is what the key encodes.
 *
 * Reads a Fill's fields at the offsets of its member descriptors, found once by the Matcher and used
 * only on objects whose type is exactly `Fill`; an empty slot (a field deleted through its descriptor)
 * declines. It holds its own references to everything it keeps across calls that may run Python code
 * (a garbage collection's finalizers): a list of the fills, and each open lot's order id and price.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

enum { SIDE_NONE = 0, SIDE_BUY = 1, SIDE_SELL = 2 };

typedef struct {
    int64_t utc_us;
    int64_t order_id;
    Py_ssize_t position;
} SortKey;

/* An open lot: what the matching needs of the fill that opened it, so that closing it does not go back
 * to a fill read long before. `fill` is borrowed (the matcher's list holds the fills); `order_id` and
 * `price` are references of the lot's own (`lot_of`, `lot_release`). */
typedef struct {
    PyObject *fill;
    PyObject *order_id;
    PyObject *price;
    int64_t qty;        /* still open */
} Lot;

typedef struct {
    Lot *slots;
    Py_ssize_t capacity;  /* 0 or a power of two, so that an index wraps with a mask */
    Py_ssize_t start;
    Py_ssize_t length;
} Ring;

typedef struct {
    PyObject **items;   /* strong references */
    Py_ssize_t length;
    Py_ssize_t capacity;
} Objects;

typedef struct {
    PyObject *symbol;   /* borrowed from the fills */
    int side;           /* SIDE_NONE while the position is flat */
    Lot head;           /* the oldest lot, the only one that can be partly closed */
    Ring rest;          /* the younger lots, each open for its fill's whole qty */
} Book;

#define QTY_DECIMALS 1024

typedef struct {
    PyObject_HEAD
    PyTypeObject *fill_type;
    PyObject *match_type;
    PyTypeObject *decimal_type;
    PyObject *is_finite;
    PyObject *is_signed;
    PyObject *buy;
    PyObject *sell;
    PyObject *long_direction;
    PyObject *short_direction;
    Py_ssize_t order_id_offset;
    Py_ssize_t symbol_offset;
    Py_ssize_t side_offset;
    Py_ssize_t qty_offset;
    Py_ssize_t price_offset;
    Py_ssize_t time_offset;
    Py_ssize_t last_field_offset;
    PyObject *qty_decimals[QTY_DECIMALS];  /* Decimal(q) for q below QTY_DECIMALS, made when first needed */
} Matcher;

#define FIELD(self, fill, name) (*(PyObject **)((char *)(fill) + (self)->name##_offset))

static PyTypeObject *timezone_type;
static PyObject *utcoffset_name;

static int
ring_push(Ring *ring, Lot lot)
{
    if (ring->length == ring->capacity) {
        Py_ssize_t capacity = ring->capacity ? ring->capacity * 2 : 8;
        Lot *slots = PyMem_New(Lot, capacity);
        if (slots == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < ring->length; i++) {
            slots[i] = ring->slots[(ring->start + i) & (ring->capacity - 1)];
        }
        PyMem_Free(ring->slots);
        ring->slots = slots;
        ring->capacity = capacity;
        ring->start = 0;
    }
    ring->slots[(ring->start + ring->length) & (ring->capacity - 1)] = lot;
    ring->length++;
    return 0;
}

/* Take the oldest lot, and ask for the price and order id of the one after it, which the next close
 * will need (they were read long before, when it opened). */
static Lot
ring_pop_oldest(Ring *ring)
{
    Lot lot = ring->slots[ring->start];
    ring->start = (ring->start + 1) & (ring->capacity - 1);
    ring->length--;
    if (ring->length) {
        __builtin_prefetch(ring->slots[ring->start].price);
        __builtin_prefetch(ring->slots[ring->start].order_id);
        __builtin_prefetch(&ring->slots[(ring->start + 4) & (ring->capacity - 1)]);
    }
    return lot;
}

static const Lot *
ring_at(const Ring *ring, Py_ssize_t index)
{
    return &ring->slots[(ring->start + index) & (ring->capacity - 1)];
}

/* Take the reference to `item` (even on failure). */
static int
objects_append(Objects *objects, PyObject *item)
{
    if (objects->length == objects->capacity) {
        Py_ssize_t capacity = objects->capacity ? objects->capacity * 2 : 1024;
        PyObject **items = PyMem_Realloc(objects->items, (size_t)capacity * sizeof(PyObject *));
        if (items == NULL) {
            Py_DECREF(item);
            PyErr_NoMemory();
            return -1;
        }
        objects->items = items;
        objects->capacity = capacity;
    }
    objects->items[objects->length++] = item;
    return 0;
}

static void
objects_clear(Objects *objects)
{
    for (Py_ssize_t i = 0; i < objects->length; i++) {
        Py_DECREF(objects->items[i]);
    }
    PyMem_Free(objects->items);
    *objects = (Objects){0};
}

/* A tuple of the objects, which it takes; untracked by the garbage collector, which is what CPython's
 * collector does itself to a tuple of untracked objects the first time it sees one (Matches are gc=False
 * Structs of strs, ints and Decimals). Without it the first collection walks a million fresh items. */
static PyObject *
objects_to_untracked_tuple(Objects *objects)
{
    PyObject *tuple = PyTuple_New(objects->length);
    if (tuple == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < objects->length; i++) {
        PyTuple_SET_ITEM(tuple, i, objects->items[i]);
    }
    objects->length = 0;
    objects_clear(objects);
    PyObject_GC_UnTrack(tuple);
    return tuple;
}

static inline int
key_less(const SortKey *a, const SortKey *b)
{
    if (a->utc_us != b->utc_us) {
        return a->utc_us < b->utc_us;
    }
    if (a->order_id != b->order_id) {
        return a->order_id < b->order_id;
    }
    return a->position < b->position;
}

enum { INSERTION_RUN = 32 };

static void
insertion_sort(SortKey *keys, Py_ssize_t count)
{
    for (Py_ssize_t i = 1; i < count; i++) {
        SortKey key = keys[i];
        Py_ssize_t j = i;
        while (j > 0 && key_less(&key, &keys[j - 1])) {
            keys[j] = keys[j - 1];
            j--;
        }
        keys[j] = key;
    }
}

/* Merge the sorted neighbours [lo, mid) and [mid, hi), moving only the overlap: the left elements
 * above the right's first and the right elements below the left's last. A broker's book is in time
 * order but for fills a little late, so the overlap is small and most of the work is two searches. */
static void
merge_neighbours(SortKey *keys, Py_ssize_t lo, Py_ssize_t mid, Py_ssize_t hi, SortKey *spare)
{
    if (!key_less(&keys[mid], &keys[mid - 1])) {
        return;
    }
    Py_ssize_t low = lo, high = mid;  /* first left element above keys[mid] */
    while (low < high) {
        Py_ssize_t probe = low + (high - low) / 2;
        if (key_less(&keys[mid], &keys[probe])) {
            high = probe;
        }
        else {
            low = probe + 1;
        }
    }
    Py_ssize_t left = low;
    low = mid, high = hi;  /* first right element above keys[mid - 1] */
    while (low < high) {
        Py_ssize_t probe = low + (high - low) / 2;
        if (key_less(&keys[mid - 1], &keys[probe])) {
            high = probe;
        }
        else {
            low = probe + 1;
        }
    }
    Py_ssize_t right_end = low;
    Py_ssize_t left_count = mid - left;
    memcpy(spare, &keys[left], (size_t)left_count * sizeof(SortKey));
    Py_ssize_t from_spare = 0, from_right = mid, to = left;
    while (from_spare < left_count && from_right < right_end) {
        if (key_less(&keys[from_right], &spare[from_spare])) {
            keys[to++] = keys[from_right++];
        }
        else {
            keys[to++] = spare[from_spare++];
        }
    }
    memcpy(&keys[to], &spare[from_spare], (size_t)(left_count - from_spare) * sizeof(SortKey));
}

/* Sort the keys: insertion-sorted runs of 32, then bottom-up merges of neighbours. 0, or -1 on no memory. */
static int
sort_in_place(SortKey *keys, Py_ssize_t count)
{
    for (Py_ssize_t lo = 0; lo < count; lo += INSERTION_RUN) {
        insertion_sort(&keys[lo], count - lo < INSERTION_RUN ? count - lo : INSERTION_RUN);
    }
    if (count <= INSERTION_RUN) {
        return 0;
    }
    SortKey *spare = PyMem_New(SortKey, count);
    if (spare == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t width = INSERTION_RUN; width < count; width *= 2) {
        for (Py_ssize_t lo = 0; lo + width < count; lo += 2 * width) {
            Py_ssize_t hi = count - lo < 2 * width ? count : lo + 2 * width;
            merge_neighbours(keys, lo, lo + width, hi, spare);
        }
    }
    PyMem_Free(spare);
    return 0;
}

enum { PREFETCH_DISTANCE = 16 };

/* Ask for the fill PREFETCH_DISTANCE ahead of `at`, and for two fields of the one half as far ahead
 * (whose fill that asked for before): the fills and their fields lie all over the heap, and without
 * this the loops wait on memory for most of their time. */
static inline void
prefetch_fields(Matcher *self, PyObject **fills, Py_ssize_t at, Py_ssize_t count, Py_ssize_t first_offset,
                Py_ssize_t second_offset)
{
    if (at + PREFETCH_DISTANCE < count) {
        char *ahead = (char *)fills[at + PREFETCH_DISTANCE];
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + self->last_field_offset);  /* a Fill may straddle two cache lines */
    }
    if (at + PREFETCH_DISTANCE / 2 < count) {
        char *soon = (char *)fills[at + PREFETCH_DISTANCE / 2];
        __builtin_prefetch(*(PyObject **)(soon + first_offset));
        __builtin_prefetch(*(PyObject **)(soon + second_offset));
    }
}

/* Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

/* The fixed UTC offset of a `datetime.timezone`, in microseconds; -1 with an exception on failure. */
static int
timezone_offset_us(PyObject *tzinfo, int64_t *offset_us)
{
    PyObject *args[2] = {tzinfo, Py_None};
    PyObject *delta = PyObject_VectorcallMethod(utcoffset_name, args, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    if (delta == NULL) {
        return -1;
    }
    if (!PyDelta_Check(delta)) {
        Py_DECREF(delta);
        PyErr_SetString(PyExc_TypeError, "datetime.timezone.utcoffset returned no timedelta");
        return -1;
    }
    *offset_us = ((int64_t)PyDateTime_DELTA_GET_DAYS(delta) * 86400 + PyDateTime_DELTA_GET_SECONDS(delta))
                 * 1000000 + PyDateTime_DELTA_GET_MICROSECONDS(delta);
    Py_DECREF(delta);
    return 0;
}

/* Fill in the sort keys; 1 when every fill is on the fast path, 0 to decline, -1 on error. */
static int
sort_keys(Matcher *self, PyObject **fills, Py_ssize_t count, SortKey *keys)
{
    PyObject *offset_tzinfo = NULL;
    int64_t offset_us = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        prefetch_fields(self, fills, i, count, self->time_offset, self->order_id_offset);
        PyObject *fill = fills[i];
        if (Py_TYPE(fill) != self->fill_type) {
            return 0;
        }
        PyObject *time = FIELD(self, fill, time);
        PyObject *order_id = FIELD(self, fill, order_id);
        if (time == NULL || order_id == NULL || !PyDateTime_CheckExact(time) || !PyLong_CheckExact(order_id)) {
            return 0;
        }
        PyObject *tzinfo = PyDateTime_DATE_GET_TZINFO(time);
        if (tzinfo != offset_tzinfo) {
            if (Py_TYPE(tzinfo) != timezone_type) {
                return 0;
            }
            if (timezone_offset_us(tzinfo, &offset_us) < 0) {
                return -1;
            }
            offset_tzinfo = tzinfo;
        }
        int overflow;
        long long id = PyLong_AsLongLongAndOverflow(order_id, &overflow);
        if (overflow) {
            return 0;
        }
        int64_t days = days_from_civil(PyDateTime_GET_YEAR(time), PyDateTime_GET_MONTH(time),
                                       PyDateTime_GET_DAY(time));
        int64_t seconds = ((days * 24 + PyDateTime_DATE_GET_HOUR(time)) * 60 + PyDateTime_DATE_GET_MINUTE(time))
                          * 60 + PyDateTime_DATE_GET_SECOND(time);
        keys[i].utc_us = seconds * 1000000 + PyDateTime_DATE_GET_MICROSECOND(time) - offset_us;
        keys[i].order_id = id;
        keys[i].position = i;
    }
    return sort_in_place(keys, count) < 0 ? -1 : 1;
}

/* 1 when `fill`'s qty and price are valid (the qty, as an int64, in *qty), 0 when not, -1 on error. */
static int
valid_qty_and_price(Matcher *self, PyObject *fill, int64_t *qty)
{
    PyObject *qty_object = FIELD(self, fill, qty);
    if (qty_object == NULL || !PyLong_CheckExact(qty_object)) {
        return 0;
    }
    int overflow;
    long long value = PyLong_AsLongLongAndOverflow(qty_object, &overflow);
    if (overflow || value <= 0) {
        return 0;
    }
    *qty = value;
    PyObject *price = FIELD(self, fill, price);
    if (price == NULL || Py_TYPE(price) != self->decimal_type) {
        return 0;
    }
    PyObject *finite = PyObject_Vectorcall(self->is_finite, &price, 1, NULL);
    if (finite == NULL) {
        return -1;
    }
    int is_finite = finite == Py_True;
    Py_DECREF(finite);
    if (!is_finite) {
        return 0;
    }
    PyObject *signed_ = PyObject_Vectorcall(self->is_signed, &price, 1, NULL);
    if (signed_ == NULL) {
        return -1;
    }
    int is_signed = signed_ != Py_False;
    Py_DECREF(signed_);
    if (is_signed) {
        return 0;
    }
    return PyObject_IsTrue(price);
}

/* SIDE_BUY or SIDE_SELL, or SIDE_NONE for any other side. */
static int
side_of(Matcher *self, PyObject *side)
{
    if (side == NULL) {
        return SIDE_NONE;
    }
    if (side == self->buy) {
        return SIDE_BUY;
    }
    if (side == self->sell) {
        return SIDE_SELL;
    }
    if (!PyUnicode_CheckExact(side)) {
        return SIDE_NONE;
    }
    if (PyUnicode_Compare(side, self->buy) == 0) {
        return SIDE_BUY;
    }
    if (PyUnicode_Compare(side, self->sell) == 0) {
        return SIDE_SELL;
    }
    return SIDE_NONE;
}

/* A lot of `qty` opened by `fill`, holding its own references to the fill's order id and price. */
static inline Lot
lot_of(PyObject *fill, PyObject *order_id, PyObject *price, int64_t qty)
{
    return (Lot){.fill = fill, .order_id = Py_NewRef(order_id), .price = Py_NewRef(price), .qty = qty};
}

static inline void
lot_release(Lot *lot)
{
    Py_CLEAR(lot->order_id);
    Py_CLEAR(lot->price);
}

/* The fill being matched: its fields, read and checked once, borrowed for its turn in the loop. */
typedef struct {
    PyObject *fill;
    PyObject *order_id;
    PyObject *symbol;
    PyObject *price;
    PyObject *qty_object;
    int64_t qty;
    int side;
} Turn;

/* What the realized PnL's difference is multiplied by: Decimal(qty), which is exactly what the Decimal type
 * turns an int operand into (exponent 0, never rounded), kept for small quantities so that a match does
 * not convert its qty again; the int itself for the others. New reference, NULL on error. */
static PyObject *
qty_operand(Matcher *self, PyObject *qty)
{
    int overflow;
    long long value = PyLong_AsLongLongAndOverflow(qty, &overflow);
    if (value == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (overflow || value < 0 || value >= QTY_DECIMALS) {
        return Py_NewRef(qty);
    }
    PyObject **kept = &self->qty_decimals[value];
    if (*kept == NULL) {
        *kept = PyObject_CallOneArg((PyObject *)self->decimal_type, qty);
        if (*kept == NULL) {
            return NULL;
        }
    }
    return Py_NewRef(*kept);
}

/* Append Match(symbol, entry id, exit id, direction, qty, entry price, exit price, realized). */
static int
append_match(Matcher *self, Objects *matches, const Lot *lot, const Turn *turn, int is_long, PyObject *qty)
{
    PyObject *operand = qty_operand(self, qty);
    if (operand == NULL) {
        return -1;
    }
    PyObject *difference = is_long ? PyNumber_Subtract(turn->price, lot->price)
                                   : PyNumber_Subtract(lot->price, turn->price);
    if (difference == NULL) {
        Py_DECREF(operand);
        return -1;
    }
    PyObject *realized = PyNumber_Multiply(difference, operand);
    Py_DECREF(operand);
    Py_DECREF(difference);
    if (realized == NULL) {
        return -1;
    }
    PyObject *args[8] = {
        turn->symbol, lot->order_id, turn->order_id, is_long ? self->long_direction : self->short_direction,
        qty, lot->price, turn->price, realized,
    };
    PyObject *match = PyObject_Vectorcall(self->match_type, args, 8, NULL);
    Py_DECREF(realized);
    if (match == NULL) {
        return -1;
    }
    return objects_append(matches, match);
}

static int
append_match_of(Matcher *self, Objects *matches, const Lot *lot, const Turn *turn, int is_long, int64_t qty)
{
    PyObject *qty_object = PyLong_FromLongLong(qty);
    if (qty_object == NULL) {
        return -1;
    }
    int appended = append_match(self, matches, lot, turn, is_long, qty_object);
    Py_DECREF(qty_object);
    return appended;
}

/* Close lots of `book` with the turn's fill (the opposite side), oldest first; what is left of the fill
 * flips the position. 0 on success, -1 on error (the book still owns its lots). */
static int
close_lots(Matcher *self, Book *book, const Turn *turn, Objects *matches)
{
    int is_long = book->side == SIDE_BUY;
    int64_t qty = turn->qty;
    Lot *lot = &book->head;
    if (lot->qty > qty) {
        lot->qty -= qty;
        return append_match(self, matches, lot, turn, is_long, turn->qty_object);
    }
    for (;;) {
        if (append_match_of(self, matches, lot, turn, is_long, lot->qty) < 0) {
            return -1;
        }
        qty -= lot->qty;
        lot_release(lot);
        if (book->rest.length == 0) {
            if (qty) {
                book->side = turn->side;
                *lot = lot_of(turn->fill, turn->order_id, turn->price, qty);
            }
            else {
                book->side = SIDE_NONE;
            }
            return 0;
        }
        *lot = ring_pop_oldest(&book->rest);
        if (lot->qty > qty) {
            if (qty && append_match_of(self, matches, lot, turn, is_long, qty) < 0) {
                return -1;
            }
            lot->qty -= qty;
            return 0;
        }
    }
}

/* (open qty, fill) as a new tuple. */
static PyObject *
open_lot(const Lot *lot)
{
    return Py_BuildValue("(LO)", (long long)lot->qty, lot->fill);
}

/* {symbol: (entry side, [(open qty, fill), ...])} of the books with open lots, like `_match_in_order`. */
static PyObject *
open_books(Matcher *self, Book *books, Py_ssize_t book_count)
{
    PyObject *result = PyDict_New();
    if (result == NULL) {
        return NULL;
    }
    for (Py_ssize_t b = 0; b < book_count; b++) {
        Book *book = &books[b];
        if (book->side == SIDE_NONE) {
            continue;
        }
        PyObject *lots = PyList_New(1 + book->rest.length);
        if (lots == NULL) {
            goto error;
        }
        for (Py_ssize_t i = 0; i <= book->rest.length; i++) {
            PyObject *lot = open_lot(i == 0 ? &book->head : ring_at(&book->rest, i - 1));
            if (lot == NULL) {
                Py_DECREF(lots);
                goto error;
            }
            PyList_SET_ITEM(lots, i, lot);
        }
        PyObject *entry = Py_BuildValue("(ON)", book->side == SIDE_BUY ? self->buy : self->sell, lots);
        if (entry == NULL || PyDict_SetItem(result, book->symbol, entry) < 0) {
            Py_XDECREF(entry);
            goto error;
        }
        Py_DECREF(entry);
    }
    return result;
error:
    Py_DECREF(result);
    return NULL;
}

/* Read and check the fields of the fill at its turn: 1 when it can be matched here, 0 to decline, -1 on
 * error. */
static int
read_turn(Matcher *self, PyObject *fill, Turn *turn)
{
    int valid = valid_qty_and_price(self, fill, &turn->qty);
    if (valid <= 0) {
        return valid;
    }
    turn->fill = fill;
    turn->qty_object = FIELD(self, fill, qty);
    turn->price = FIELD(self, fill, price);
    turn->order_id = FIELD(self, fill, order_id);
    turn->symbol = FIELD(self, fill, symbol);
    turn->side = side_of(self, FIELD(self, fill, side));
    return turn->side != SIDE_NONE && turn->order_id != NULL && turn->symbol != NULL
           && PyUnicode_CheckExact(turn->symbol);
}

/* The book of `symbol`, opened flat on its first fill; NULL with an exception on failure. */
static Book *
book_of(PyObject *book_index, Book **books, Py_ssize_t *book_count, Py_ssize_t *book_capacity, PyObject *symbol)
{
    PyObject *index = PyDict_GetItemWithError(book_index, symbol);
    if (index != NULL) {
        return &(*books)[PyLong_AsSsize_t(index)];
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (*book_count == *book_capacity) {
        Py_ssize_t capacity = *book_capacity ? *book_capacity * 2 : 64;
        Book *grown = PyMem_Realloc(*books, (size_t)capacity * sizeof(Book));
        if (grown == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        *books = grown;
        *book_capacity = capacity;
    }
    index = PyLong_FromSsize_t(*book_count);
    if (index == NULL) {
        return NULL;
    }
    int stored = PyDict_SetItem(book_index, symbol, index);
    Py_DECREF(index);
    if (stored < 0) {
        return NULL;
    }
    Book *book = &(*books)[(*book_count)++];
    *book = (Book){.symbol = symbol, .side = SIDE_NONE};
    return book;
}

/* Match the ordered fills; the result tuple, Py_None to decline, or NULL with an exception. */
static PyObject *
match_ordered(Matcher *self, PyObject **ordered, Py_ssize_t count)
{
    PyObject *book_index = PyDict_New();  /* symbol -> index in books; its keys keep the symbols alive */
    Objects matches = {0};
    Book *books = NULL;
    Py_ssize_t book_count = 0, book_capacity = 0;
    PyObject *result = NULL;
    if (book_index == NULL) {
        goto done;
    }
    for (Py_ssize_t position = 0; position < count; position++) {
        prefetch_fields(self, ordered, position, count, self->price_offset, self->qty_offset);
        Turn turn;
        int readable = read_turn(self, ordered[position], &turn);
        if (readable <= 0) {
            result = readable == 0 ? Py_NewRef(Py_None) : NULL;
            goto done;
        }
        Book *book = book_of(book_index, &books, &book_count, &book_capacity, turn.symbol);
        if (book == NULL) {
            goto done;
        }
        if (book->side == SIDE_NONE) {
            book->side = turn.side;
            book->head = lot_of(turn.fill, turn.order_id, turn.price, turn.qty);
            book->rest.start = book->rest.length = 0;
        }
        else if (turn.side == book->side) {
            if (ring_push(&book->rest, lot_of(turn.fill, turn.order_id, turn.price, turn.qty)) < 0) {
                goto done;
            }
        }
        else if (close_lots(self, book, &turn, &matches) < 0) {
            goto done;
        }
    }
    PyObject *books_left = open_books(self, books, book_count);
    if (books_left == NULL) {
        goto done;
    }
    PyObject *matched = objects_to_untracked_tuple(&matches);
    if (matched == NULL) {
        Py_DECREF(books_left);
        goto done;
    }
    result = PyTuple_Pack(2, books_left, matched);
    Py_DECREF(books_left);
    Py_DECREF(matched);
done:
    for (Py_ssize_t b = 0; b < book_count; b++) {
        Book *book = &books[b];
        if (book->side != SIDE_NONE) {
            lot_release(&book->head);
        }
        while (book->rest.length) {
            Lot lot = ring_pop_oldest(&book->rest);
            lot_release(&lot);
        }
        PyMem_Free(book->rest.slots);
    }
    PyMem_Free(books);
    objects_clear(&matches);
    Py_XDECREF(book_index);
    return result;
}

static PyObject *
Matcher_match(Matcher *self, PyObject *fills)
{
    /* A list of the fills that only this call can reach, held for the whole call. Not PySequence_Tuple:
     * CPython's list-to-tuple copy reads the source's items after allocating the tuple, which can run a
     * garbage collection, and so any code, that changes the source. */
    PyObject *given = PySequence_List(fills);
    if (given == NULL) {
        return NULL;
    }
    PyObject_GC_UnTrack(given);  /* no one else can reach it: nothing for a collection to walk */
    Py_ssize_t count = PyList_GET_SIZE(given);
    PyObject **items = ((PyListObject *)given)->ob_item;
    SortKey *keys = PyMem_New(SortKey, count ? count : 1);
    PyObject **ordered = NULL, *result = NULL;
    if (keys == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int fast = sort_keys(self, items, count, keys);
    if (fast <= 0) {
        result = fast == 0 ? Py_NewRef(Py_None) : NULL;
        goto done;
    }
    ordered = PyMem_New(PyObject *, count ? count : 1);
    if (ordered == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        ordered[i] = items[keys[i].position];
    }
    PyMem_Free(keys);
    keys = NULL;
    result = match_ordered(self, ordered, count);
done:
    PyMem_Free(keys);
    PyMem_Free(ordered);
    Py_DECREF(given);
    return result;
}

/* The offset of `type`'s object-valued member `name`, or -1 with an exception. */
static Py_ssize_t
member_offset(PyTypeObject *type, const char *name)
{
    PyObject *descriptor = PyObject_GetAttrString((PyObject *)type, name);
    if (descriptor == NULL) {
        return -1;
    }
    Py_ssize_t offset = -1;
    if (Py_IS_TYPE(descriptor, &PyMemberDescr_Type)) {
        PyMemberDef *member = ((PyMemberDescrObject *)descriptor)->d_member;
        if ((member->type == T_OBJECT_EX || member->type == T_OBJECT) && !(member->flags & PY_AUDIT_READ)) {
            offset = member->offset;
        }
    }
    Py_DECREF(descriptor);
    if (offset < 0) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not an object slot", type->tp_name, name);
    }
    return offset;
}

static int
Matcher_init(Matcher *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"fill_type", "match_type", "decimal_type", "buy", "sell", "long", "short", NULL};
    PyObject *fill_type, *match_type, *decimal_type;
    PyObject *buy, *sell, *long_direction, *short_direction;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!O!UUUU", keywords, &PyType_Type, &fill_type,
                                     &PyType_Type, &match_type, &PyType_Type, &decimal_type, &buy, &sell,
                                     &long_direction, &short_direction)) {
        return -1;
    }
    if (self->fill_type != NULL) {
        PyErr_SetString(PyExc_TypeError, "a Matcher is initialised once");
        return -1;
    }
    if (PyType_IS_GC((PyTypeObject *)match_type)) {
        /* objects_to_untracked_tuple relies on it */
        PyErr_SetString(PyExc_TypeError, "match_type must not be tracked by the garbage collector (gc=False)");
        return -1;
    }
    PyObject *post_init = PyObject_GetAttrString(match_type, "__post_init__");
    if (post_init != NULL) {  /* it would run Python code inside the loop */
        Py_DECREF(post_init);
        PyErr_SetString(PyExc_TypeError, "match_type must not define __post_init__");
        return -1;
    }
    if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
        return -1;
    }
    PyErr_Clear();
    PyTypeObject *fill = (PyTypeObject *)fill_type;
    Py_ssize_t order_id_offset, symbol_offset, side_offset, qty_offset, price_offset, time_offset;
    if ((order_id_offset = member_offset(fill, "order_id")) < 0
        || (symbol_offset = member_offset(fill, "symbol")) < 0
        || (side_offset = member_offset(fill, "side")) < 0
        || (qty_offset = member_offset(fill, "qty")) < 0
        || (price_offset = member_offset(fill, "price")) < 0
        || (time_offset = member_offset(fill, "time")) < 0) {
        return -1;
    }
    PyObject *is_finite = PyObject_GetAttrString(decimal_type, "is_finite");
    PyObject *is_signed = is_finite == NULL ? NULL : PyObject_GetAttrString(decimal_type, "is_signed");
    if (is_signed == NULL) {
        Py_XDECREF(is_finite);
        return -1;
    }
    self->fill_type = (PyTypeObject *)Py_NewRef(fill_type);
    self->match_type = Py_NewRef(match_type);
    self->decimal_type = (PyTypeObject *)Py_NewRef(decimal_type);
    self->is_finite = is_finite;
    self->is_signed = is_signed;
    self->buy = Py_NewRef(buy);
    self->sell = Py_NewRef(sell);
    self->long_direction = Py_NewRef(long_direction);
    self->short_direction = Py_NewRef(short_direction);
    self->order_id_offset = order_id_offset;
    self->symbol_offset = symbol_offset;
    self->side_offset = side_offset;
    self->qty_offset = qty_offset;
    self->price_offset = price_offset;
    self->time_offset = time_offset;
    self->last_field_offset = order_id_offset;
    Py_ssize_t offsets[] = {symbol_offset, side_offset, qty_offset, price_offset, time_offset};
    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        if (offsets[i] > self->last_field_offset) {
            self->last_field_offset = offsets[i];
        }
    }
    return 0;
}

static void
Matcher_dealloc(Matcher *self)
{
    Py_XDECREF(self->fill_type);
    Py_XDECREF(self->match_type);
    Py_XDECREF(self->decimal_type);
    Py_XDECREF(self->is_finite);
    Py_XDECREF(self->is_signed);
    Py_XDECREF(self->buy);
    Py_XDECREF(self->sell);
    Py_XDECREF(self->long_direction);
    Py_XDECREF(self->short_direction);
    for (Py_ssize_t q = 0; q < QTY_DECIMALS; q++) {
        Py_XDECREF(self->qty_decimals[q]);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Matcher_methods[] = {
    {"match", (PyCFunction)Matcher_match, METH_O,
     "match(fills) -> (open_books, matches) as fifo._match_in_order gives them, or None to decline."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject MatcherType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "actors.pnl_calculator._fifo_match.Matcher",
    .tp_doc = "Matcher(fill_type, match_type, decimal_type, buy, sell, long, short): fifo.py's loop, compiled.",
    .tp_basicsize = sizeof(Matcher),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Matcher_init,
    .tp_dealloc = (destructor)Matcher_dealloc,
    .tp_methods = Matcher_methods,
};

static struct PyModuleDef fifo_match_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "actors.pnl_calculator._fifo_match",
    .m_doc = "The compiled form of fifo.py's ordering and matching loop; fifo.py is the reference.",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__fifo_match(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) {
        return NULL;
    }
    timezone_type = Py_TYPE(PyDateTime_TimeZone_UTC);
    utcoffset_name = PyUnicode_InternFromString("utcoffset");
    if (utcoffset_name == NULL) {
        return NULL;
    }
    if (PyType_Ready(&MatcherType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&fifo_match_module);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(module, "Matcher", (PyObject *)&MatcherType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
