// brine adapter for stalecucumber (Go), a pickle reader and writer for protocols 0-2.
//
//	adapter decode   stalecucumber.Unpickle(bytes.NewReader(data))
//	adapter encode   stalecucumber.NewPickler(&buf).Pickle(value)
//
// Built with Debian's golang-github-hydrogen18-stalecucumber-dev (GO111MODULE=off, GOPATH at
// Debian's /usr/share/gocode). With BRINE_PERSISTENT=1 both sides speak the persistent
// protocol of conformance/README.md (JSON lines); each request gets a fresh unpickler or
// pickler, so no state crosses cases.
//
// Decoding: Unpickle with its default resolver (PythonBuiltinResolver: REDUCE of
// __builtin__.set and __builtin__.bytearray; GLOBAL pushes an inert name, INST an inert
// record; nothing is ever imported or run). An error it returns is a rejection (exit 1,
// error type "PickleMachineError", or the error's Go type when it returns another). A Go
// panic inside the library is not recovered: the process dies with Go's exit status 2 and
// the harness counts the case as a crash, as it is one.
//
// Values: its results are Go values, written as pickle JSON where the Go type tells the
// Python type: PickleNone, bool, int64 and *big.Int (int), float64 (float), string (str, when
// valid UTF-8), map[interface{}]interface{} (dict, in Go's random map order: compared with
// the dict-order leniency; shared maps written as copies, the sharing leniency; a map that
// holds itself is not written), map[interface{}]bool (set) and *strings.Reader (bytearray).
// Lists and tuples are both []interface{}: a value holding one (or a GLOBAL/INST record, or
// an invalid UTF-8 string) is not written, and the case is judged on accept/reject.
//
// Encoding: the document as the Go values its Pickler writes: None (PickleNone), bool, int
// (int64, or big.Int), float, str (string, BINUNICODE), tuple (PickleTuple), list
// ([]interface{}), dict (map[interface{}]interface{}; written in Go's random map order).
// Refs are expanded into copies (a cycle is refused). Refused: bytes (a Go []byte would be a
// list of ints), bytearray, set, frozenset, globals and objects, strs with lone surrogates,
// dict keys that are lists, tuples or dicts (unhashable in Go: a runtime panic). It always
// writes protocol 2.
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hydrogen18/stalecucumber"
)

// node is a JSON object whose keys keep their order ("t" first, as brine writes nodes): the
// dict-order leniency orders dict items by their text, so that text must not depend on Go's
// sorted map keys.
type kv struct {
	k string
	v interface{}
}

type node []kv

func (n node) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// pyFloat writes f as Python's repr(float) does.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	sign := ""
	if f < 0 {
		sign = "-"
		f = -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // shortest digits: d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mant, ".", "", 1)
	if exp >= -4 && exp < 16 {
		if exp >= 0 {
			for len(digits) < exp+1 {
				digits += "0"
			}
			frac := digits[exp+1:]
			if frac == "" {
				frac = "0"
			}
			return sign + digits[:exp+1] + "." + frac
		}
		return sign + "0." + strings.Repeat("0", -exp-1) + digits
	}
	rest := ""
	if len(digits) > 1 {
		rest = "." + digits[1:]
	}
	es := "+"
	if exp < 0 {
		es = "-"
		exp = -exp
	}
	return fmt.Sprintf("%s%s%s%se%s%02d", sign, digits[:1], rest, "", es, exp)
}

// writer turns a decoded value into a node. Shared maps are written out as copies (the Go
// values carry identity, but nodes here carry no ids: compared with the sharing leniency); a
// map that contains itself, or an expansion past 2,000,000 nodes, is not written.
type writer struct {
	open   map[uintptr]bool
	budget int
}

// toNode writes a decoded value; ok is false when its Python type cannot be told.
func toNode(v interface{}) (node, bool) {
	w := &writer{open: map[uintptr]bool{}, budget: 2000000}
	return w.node(v)
}

func (w *writer) enter(m interface{}) (uintptr, bool) {
	p := reflect.ValueOf(m).Pointer()
	if w.open[p] {
		return p, false
	}
	w.open[p] = true
	return p, true
}

func (w *writer) node(v interface{}) (node, bool) {
	w.budget--
	if w.budget < 0 {
		return nil, false
	}
	toNode := w.node
	switch v := v.(type) {
	case stalecucumber.PickleNone:
		return node{{"t", "none"}}, true
	case bool:
		return node{{"t", "bool"}, {"v", v}}, true
	case int64:
		return node{{"t", "int"}, {"v", strconv.FormatInt(v, 10)}}, true
	case *big.Int:
		return node{{"t", "int"}, {"v", v.String()}}, true
	case float64:
		return node{{"t", "float"}, {"v", pyFloat(v)}}, true
	case string:
		if !utf8.ValidString(v) {
			return nil, false
		}
		return node{{"t", "str"}, {"v", v}}, true
	case *strings.Reader:
		b, _ := io.ReadAll(io.NewSectionReader(v, 0, v.Size()))
		return node{{"t", "bytearray"}, {"v", hex.EncodeToString(b)}}, true
	case map[interface{}]interface{}:
		p, ok := w.enter(v)
		if !ok {
			return nil, false // a cycle
		}
		defer delete(w.open, p)
		items := []interface{}{}
		for k, x := range v {
			kn, ok1 := toNode(k)
			xn, ok2 := toNode(x)
			if !ok1 || !ok2 {
				return nil, false
			}
			items = append(items, []interface{}{kn, xn})
		}
		return node{{"t", "dict"}, {"items", items}}, true
	case map[interface{}]bool:
		p, ok := w.enter(v)
		if !ok {
			return nil, false
		}
		defer delete(w.open, p)
		items := []interface{}{}
		for k := range v {
			kn, ok := toNode(k)
			if !ok {
				return nil, false
			}
			items = append(items, kn)
		}
		return node{{"t", "set"}, {"items", items}}, true
	}
	return nil, false // []interface{} (list or tuple), GLOBAL/INST records, PickleMark...
}

type answer struct {
	exit int
	node node
}

func decode(data []byte) answer {
	v, err := stalecucumber.Unpickle(bytes.NewReader(data))
	if err != nil {
		typ := reflect.TypeOf(err).String()
		if i := strings.LastIndex(typ, "."); i >= 0 {
			typ = typ[i+1:]
		}
		return answer{1, node{{"t", "error"}, {"type", typ}, {"message", strings.ToValidUTF8(err.Error(), "\uFFFD")}}}
	}
	n, ok := toNode(v)
	if !ok {
		return answer{0, nil}
	}
	return answer{0, n}
}

// ---------------------------------------------------------------------------------------

type refused struct{ msg string }

type builder struct {
	defs   map[float64]map[string]interface{}
	open   map[float64]bool
	budget int
}

func (b *builder) fail(format string, args ...interface{}) {
	panic(refused{fmt.Sprintf(format, args...)})
}

func (b *builder) value(n map[string]interface{}) interface{} {
	b.budget--
	if b.budget < 0 {
		b.fail("the document expands past 2,000,000 nodes without sharing")
	}
	t, _ := n["t"].(string)
	if t == "ref" {
		id, _ := n["id"].(float64)
		def, ok := b.defs[id]
		if !ok || b.open[id] {
			b.fail("a cycle (the Go values have no identity)")
		}
		return b.build(t, def, 0)
	}
	id, hasID := n["id"].(float64)
	if hasID {
		b.defs[id] = n
		b.open[id] = true
		defer delete(b.open, id)
	}
	return b.build(t, n, id)
}

func (b *builder) items(n map[string]interface{}) []interface{} {
	raw, _ := n["items"].([]interface{})
	out := make([]interface{}, 0, len(raw))
	for _, x := range raw {
		out = append(out, b.value(x.(map[string]interface{})))
	}
	return out
}

func (b *builder) build(t string, n map[string]interface{}, _ float64) interface{} {
	if t == "ref" {
		t, _ = n["t"].(string)
	}
	switch t {
	case "none":
		return stalecucumber.PickleNone{}
	case "bool":
		return n["v"].(bool)
	case "int":
		s, _ := n["v"].(string)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
		z, ok := new(big.Int).SetString(s, 10)
		if !ok {
			b.fail("bad int %q", s)
		}
		return z
	case "float":
		s, _ := n["v"].(string)
		switch s {
		case "nan":
			return math.NaN()
		case "inf":
			return math.Inf(1)
		case "-inf":
			return math.Inf(-1)
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			b.fail("bad float %q", s)
		}
		return f
	case "str":
		s, ok := n["v"].(string)
		if !ok {
			b.fail("a str with a lone surrogate")
		}
		return s
	case "tuple":
		return stalecucumber.PickleTuple(b.items(n))
	case "list":
		return b.items(n)
	case "dict":
		m := map[interface{}]interface{}{}
		raw, _ := n["items"].([]interface{})
		for _, p := range raw {
			pair := p.([]interface{})
			k := b.value(pair[0].(map[string]interface{}))
			switch k.(type) {
			case []interface{}, stalecucumber.PickleTuple, map[interface{}]interface{}, *big.Int:
				b.fail("a dict key Go cannot hash by value (%T)", k)
			}
			m[k] = b.value(pair[1].(map[string]interface{}))
		}
		return m
	}
	b.fail("%s has no Go value stalecucumber pickles", t)
	return nil
}

func encode(document map[string]interface{}) (out []byte, msg string) {
	defer func() {
		if r := recover(); r != nil {
			rf, ok := r.(refused)
			if !ok {
				panic(r) // not ours: a crash
			}
			out, msg = nil, rf.msg
		}
	}()
	b := &builder{defs: map[float64]map[string]interface{}{}, open: map[float64]bool{}, budget: 2000000}
	v := b.value(document)
	var buf bytes.Buffer
	if _, err := stalecucumber.NewPickler(&buf).Pickle(v); err != nil {
		return nil, "Pickle: " + err.Error()
	}
	return buf.Bytes(), ""
}

// ---------------------------------------------------------------------------------------

func writeLine(w *bufio.Writer, v interface{}) {
	data, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stalecucumber adapter:", err)
		os.Exit(3)
	}
	w.Write(data)
	w.WriteByte('\n')
	w.Flush()
}

// caseName finds "case" in a request encoding/json refused (it stops at 10,000 levels).
func caseName(line []byte) string {
	i := bytes.Index(line, []byte(`"case":"`))
	if i < 0 {
		return ""
	}
	rest := line[i+8:]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

func serve(mode string) {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var req struct {
				Case     string                 `json:"case"`
				Pickle   string                 `json:"pickle"`
				Document map[string]interface{} `json:"document"`
			}
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				name := caseName(line)
				if mode == "encode" && name != "" {
					writeLine(out, map[string]interface{}{"case": name, "exit": 1, "message": "request not read: " + jerr.Error()})
					continue
				}
				fmt.Fprintln(os.Stderr, "stalecucumber adapter: bad request:", jerr)
				os.Exit(3)
			}
			if mode == "encode" {
				data, msg := encode(req.Document)
				if data == nil {
					writeLine(out, map[string]interface{}{"case": req.Case, "exit": 1, "message": msg})
				} else {
					writeLine(out, map[string]interface{}{"case": req.Case, "exit": 0, "pickle": hex.EncodeToString(data)})
				}
				continue
			}
			data, herr := hex.DecodeString(req.Pickle)
			if herr != nil {
				fmt.Fprintln(os.Stderr, "stalecucumber adapter: bad hex:", herr)
				os.Exit(3)
			}
			a := decode(data)
			resp := map[string]interface{}{"case": req.Case, "exit": a.exit}
			if a.node != nil {
				resp["node"] = a.node
			}
			writeLine(out, resp)
		}
		if err != nil {
			return
		}
	}
}

func main() {
	mode := "decode"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if os.Getenv("BRINE_PERSISTENT") == "1" {
		serve(mode)
		return
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	if mode == "encode" {
		var doc map[string]interface{}
		if err := json.Unmarshal(input, &doc); err != nil {
			fmt.Fprintln(os.Stderr, "document not read:", err)
			os.Exit(1)
		}
		data, msg := encode(doc)
		if data == nil {
			fmt.Fprintln(os.Stderr, msg)
			os.Exit(1)
		}
		os.Stdout.Write(data)
		return
	}
	a := decode(input)
	if a.node != nil {
		writeLine(out, a.node)
	}
	os.Exit(a.exit)
}
