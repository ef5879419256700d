// brine adapter for jpickle (npm), a small pure JavaScript unpickler for protocols 0-2.
//
// The pickle on stdin goes through `jpickle.loads(buf.toString('binary'))`, its only entry
// point, with its default `emulated` table (the globals it can resolve: datetime.datetime,
// which it turns into a JavaScript Date, and django.utils.timezone.UTC; any other GLOBAL throws
// "Cannot emulate global"). Nothing a pickle names is imported or run: REDUCE and OBJ call
// only what is on its stack, and the only callables it can put there are those two functions.
// Exit 0 accepts (loads returned, also when it returned `undefined`: jpickle stops silently
// at the end of the data without STOP and pops an empty stack as `undefined`), exit 1
// rejects with an error node: jpickle throws strings ("Unhandled opcode 'x'", "Cannot
// emulate global: m n", "Unhandled pickle protocol version: 3"...), reported with type
// "string", while a malformed stream may make it throw a TypeError or RangeError (class name).
//
// Values are written only where the JavaScript result says unambiguously which Python value it
// was, as in the pickleparser adapter: null (None), booleans, strings (str) and non-integral
// or non-finite numbers (float). An integral number may have been an int or a float (and
// jpickle pushes 0 for every LONG1/LONG4), an array a list or a tuple, an object a dict (keys
// made strings) or an instance: for those the adapter prints nothing and the case is judged
// on accept/reject only.
//
// With BRINE_PERSISTENT=1 it speaks the persistent protocol (conformance/README.md). jpickle's
// `emulated` table lives in the module and a pickle can set properties on its functions (a
// SETITEM or BUILD on a GLOBAL's result), so the module is loaded afresh for every case: no
// state crosses cases.
'use strict';
const fs = require('fs');
const path = require('path');

const prefix = process.env.BRINE_ADAPTERS_DIR || path.join(__dirname, '..', '..', '..', 'target', 'adapters');
const modulePath = require.resolve(path.join(prefix, 'jpickle', 'node_modules', 'jpickle'));

function freshJpickle() {
    delete require.cache[modulePath];
    return require(modulePath);
}

// A whole line on fd 1, synchronously (so it is flushed before the next request is read).
function out(s) {
    const buf = Buffer.from(s + '\n', 'utf8');
    let off = 0;
    while (off < buf.length) {
        try {
            off += fs.writeSync(1, buf, off, buf.length - off);
        } catch (e) {
            if (e.code !== 'EAGAIN') throw e;
        }
    }
}

// Python's repr(float) from JavaScript's shortest round-trip digits.
function floatRepr(x) {
    if (Number.isNaN(x)) return 'nan';
    if (x === Infinity) return 'inf';
    if (x === -Infinity) return '-inf';
    if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
    const sign = x < 0 ? '-' : '';
    const [mant, e] = Math.abs(x).toExponential().split('e');
    const exp = parseInt(e, 10);
    const digits = mant.replace('.', '');
    if (exp >= -4 && exp < 16) {
        if (exp >= 0) {
            const int = digits.padEnd(exp + 1, '0');
            const frac = int.slice(exp + 1) || '0';
            return sign + int.slice(0, exp + 1) + '.' + frac;
        }
        return sign + '0.' + '0'.repeat(-exp - 1) + digits;
    }
    const rest = digits.length > 1 ? '.' + digits.slice(1) : '';
    const ae = Math.abs(exp);
    return sign + digits[0] + rest + 'e' + (exp < 0 ? '-' : '+') + (ae < 10 ? '0' : '') + ae;
}

// A JavaScript string as a str node: lone surrogates (from \u escapes cannot happen here, but
// from a BINUNICODE decoded by Buffer they are replaced) are written as "hex" to stay valid.
function strNode(s) {
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0xd800 && c <= 0xdfff) {
            const pair = c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
            if (pair) { i++; continue; }
            return undefined; // a lone surrogate: leave it unjudged
        }
    }
    return { t: 'str', v: s };
}

function node(v) {
    if (v === null) return { t: 'none' };
    switch (typeof v) {
        case 'boolean': return { t: 'bool', v };
        case 'string': return strNode(v);
        case 'number':
            if (Number.isInteger(v)) return undefined; // int or float: ambiguous
            return { t: 'float', v: floatRepr(v) };
        default: return undefined;
    }
}

// One case: the pickle bytes -> { exit, node? }.
function decodeCase(data) {
    const jpickle = freshJpickle();
    let result;
    try {
        result = jpickle.loads(data.toString('binary'));
    } catch (e) {
        const type = e instanceof Error ? ((e.constructor && e.constructor.name) || 'Error') : typeof e;
        return { exit: 1, node: { t: 'error', type, message: String(e && e.message !== undefined ? e.message : e) } };
    }
    return { exit: 0, node: node(result) };
}

function perCase() {
    let data;
    try {
        data = fs.readFileSync(0);
    } catch (e) {
        data = Buffer.alloc(0);
    }
    const answer = decodeCase(data);
    if (answer.node !== undefined) out(JSON.stringify(answer.node));
    process.exit(answer.exit);
}

function persistent() {
    const rl = require('readline').createInterface({ input: process.stdin, crlfDelay: Infinity });
    rl.on('line', (line) => {
        if (line.trim() === '') return;
        let answer;
        try {
            const req = JSON.parse(line);
            const data = Buffer.from(req.pickle, 'hex');
            if (data.length * 2 !== req.pickle.length) throw new Error('bad hex in "pickle"');
            answer = Object.assign({ case: req.case }, decodeCase(data));
        } catch (e) {
            // a request that is not one (or an adapter bug): the harness counts a crash
            process.stderr.write(`jpickle adapter: ${e && e.stack ? e.stack : e}\n`);
            process.exit(3);
        }
        out(JSON.stringify(answer));
    });
    rl.on('close', () => process.exit(0));
}

if (process.env.BRINE_PERSISTENT === '1') {
    persistent();
} else {
    perCase();
}
