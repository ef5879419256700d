// brine adapter for pickleparser (npm), a pure JavaScript pickle parser.
//
// The pickle on stdin goes through `new Parser().parse(bytes)` with its default options
// (dicts become plain objects, sets arrays, globals PObject stand-ins). Exit 0 accepts, exit
// 1 rejects with an error node whose "type" is the thrown error's class (Error for the
// parser's own checks; TypeError/RangeError when it trips over a malformed stream).
//
// Values are written only where the JavaScript result says unambiguously which Python value
// it was: null (None), booleans, strings, BigInts (int), and non-integral or non-finite
// numbers (float: a Python int is never fractional, infinite or NaN, so writing these as
// floats can only show a wrong value as wrong). An integral number may have been an int or a
// float, an array a list, a tuple or a set, a Uint8Array bytes or a bytearray: for those the
// adapter prints nothing and the case is judged on accept/reject only.
//
// With BRINE_PERSISTENT=1 it speaks the persistent protocol (conformance/README.md): JSON
// request lines {"case", "pickle": HEX, "buffers"?} on stdin, one answer line {"case", "exit",
// "node"?} per request on stdout, each exactly what the per-case run would give. Every case
// gets a fresh Parser (its name registry is per instance), so no state crosses cases.
'use strict';
const fs = require('fs');
const path = require('path');

const prefix = process.env.BRINE_ADAPTERS_DIR || path.join(__dirname, '..', '..', '..', 'target', 'adapters');
const { Parser } = require(path.join(prefix, 'pickleparser', 'node_modules', 'pickleparser'));

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

function node(v) {
    if (v === null) return { t: 'none' };
    switch (typeof v) {
        case 'boolean': return { t: 'bool', v };
        case 'string': return { t: 'str', v };
        case 'bigint': return { t: 'int', v: v.toString() };
        case 'number':
            if (Number.isInteger(v)) return undefined; // int or float: ambiguous
            return { t: 'float', v: floatRepr(v) };
        default: return undefined;
    }
}

// One case: the pickle bytes and the number of out-of-band buffers -> { exit, node? }.
function decodeCase(data, nbuffers) {
    const options = {};
    if (nbuffers > 0) {
        options.buffers = Array.from({ length: nbuffers }, () => new Uint8Array(0)).values();
    }
    let result;
    try {
        result = new Parser(options).parse(new Uint8Array(data.buffer, data.byteOffset, data.length));
    } catch (e) {
        const type = (e && e.constructor && e.constructor.name) || typeof e;
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
    const answer = decodeCase(data, parseInt(process.env.BRINE_BUFFERS || '0', 10) || 0);
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
            answer = Object.assign({ case: req.case }, decodeCase(data, Number(req.buffers) || 0));
        } catch (e) {
            // a request that is not one (or an adapter bug): the harness counts a crash
            process.stderr.write(`pickleparser adapter: ${e && e.stack ? e.stack : e}\n`);
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
