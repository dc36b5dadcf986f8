package model

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/backprop"
)

// decoder decodes yaml.Node trees into Go values strictly: every mapping key
// must be a known field, every scalar must have the expected type, and every
// error carries the line:column of the node (or the override it came from).
// It exists because yaml.Node.Decode drops KnownFields(true).
type decoder struct {
	file    string
	origins map[*yaml.Node]string // nodes that came from --set or the environment
	// changed holds, for mappings and lists of the file whose contents an
	// override changed, those overrides; applied every override in order
	// (see blame.go).
	changed map[*yaml.Node][]string
	applied []applied
	// visits counts decoded nodes; aliases can make a small file expand
	// exponentially (or loop), so decoding stops at maxVisits.
	visits int
}

const maxVisits = 1 << 20

// nodeDecoder is implemented by config types that decode themselves
// (polymorphic entries such as layers and the optimizer).
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string) error
}

func (d *decoder) errAt(n *yaml.Node, path, format string, args ...any) *Error {
	e := &Error{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		if o, ok := d.origins[n]; ok {
			e.Origin = o
		} else {
			e.Line, e.Col = n.Line, n.Column
		}
	}
	return e
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names a node's type and value for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!null":
		return "null"
	case "!!str":
		return fmt.Sprintf("%q", n.Value)
	case "!!int":
		return "the integer " + n.Value
	case "!!float":
		return "the number " + n.Value
	case "!!bool":
		return n.Value
	}
	return fmt.Sprintf("%q", n.Value)
}

var (
	nodeDecoderType = reflect.TypeFor[nodeDecoder]()
	paramValueType  = reflect.TypeFor[backprop.ParamValue]()
)

// decode sets v from node n; path names v in messages.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	if d.visits++; d.visits > maxVisits {
		return d.errAt(n, path, "the config expands to more than %d values (aliases referring to themselves or to each other many times)", maxVisits)
	}
	n = resolve(n)
	if v.CanAddr() && v.Addr().Type().Implements(nodeDecoderType) {
		return v.Addr().Interface().(nodeDecoder).decodeNode(d, n, path)
	}
	if v.CanAddr() && v.Addr().Type().Implements(paramValueType) {
		return v.Addr().Interface().(backprop.ParamValue).DecodeParam(paramNode{d, n, path})
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.decode(n, v.Elem(), path)
	case reflect.Struct:
		return d.decodeStruct(n, v, path)
	case reflect.Slice:
		if isNull(n) {
			v.SetZero()
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return d.errAt(n, path, "expected a list, got %s", describe(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Array:
		if n.Kind != yaml.SequenceNode || len(n.Content) != v.Len() {
			return d.errAt(n, path, "expected a list of %d values, got %s", v.Len(), describeLen(n))
		}
		for i, c := range n.Content {
			if err := d.decode(c, v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return d.errAt(n, path, "expected a mapping, got %s", describe(n))
		}
		m := reflect.MakeMap(v.Type())
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if err := d.checkKey(k, path+"."+k.Value, seen); err != nil {
				return err
			}
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := d.decode(val, ev, path+"."+k.Value); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k.Value), ev)
		}
		v.Set(m)
		return nil
	}
	return d.decodeScalar(n, v, path)
}

func describeLen(n *yaml.Node) string {
	if n.Kind == yaml.SequenceNode {
		return fmt.Sprintf("a list of %d", len(n.Content))
	}
	return describe(n)
}

func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) error {
	if isNull(n) && v.Kind() == reflect.String {
		v.SetString("") // null: unset, as the reference documents optional paths
		return nil
	}
	if n.Kind != yaml.ScalarNode || isNull(n) {
		want := map[reflect.Kind]string{reflect.String: "a string", reflect.Bool: "true or false",
			reflect.Float64: "a number"}[v.Kind()]
		if want == "" {
			want = "an integer"
		}
		return d.errAt(n, path, "expected %s, got %s", want, describe(n))
	}
	if msg, ok := outOfRange(n, v); ok {
		return d.errAt(n, path, "%s", msg)
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
		return nil
	case reflect.Bool:
		var b bool
		if n.Tag != "!!bool" || n.Decode(&b) != nil {
			return d.errAt(n, path, "expected true or false, got %s", describe(n))
		}
		v.SetBool(b)
		return nil
	case reflect.Float64:
		var f float64
		if (n.Tag != "!!float" && n.Tag != "!!int") || n.Decode(&f) != nil {
			return d.errAt(n, path, "expected a number, got %s", describe(n))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return d.errAt(n, path, "expected a finite number, got %s", n.Value)
		}
		v.SetFloat(f)
		return nil
	case reflect.Int, reflect.Int64:
		if n.Tag != "!!int" {
			return d.errAt(n, path, "expected an integer, got %s", describe(n))
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil {
			return d.errAt(n, path, "expected an integer, got %s", describe(n))
		}
		v.SetInt(i)
		return nil
	case reflect.Uint64:
		if n.Tag != "!!int" {
			return d.errAt(n, path, "expected a non-negative integer, got %s", describe(n))
		}
		u, err := strconv.ParseUint(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil {
			return d.errAt(n, path, "expected a non-negative integer, got %s", describe(n))
		}
		v.SetUint(u)
		return nil
	}
	panic(fmt.Sprintf("model: cannot decode into %s", v.Type()))
}

// fieldsOf maps the yaml names of a struct's fields to their index paths,
// flattening embedded structs tagged ",inline".
func fieldsOf(t reflect.Type) (map[string][]int, []string) {
	idx := map[string][]int{}
	var names []string
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := 0; i < t.NumField(); i++ {
			name, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			path := append(append([]int(nil), prefix...), i)
			if name == "" && opts == "inline" {
				walk(t.Field(i).Type, path)
				continue
			}
			if name == "" || name == "-" {
				continue
			}
			idx[name] = path
			names = append(names, name)
		}
	}
	walk(t, nil)
	return idx, names
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) error {
	if isNull(n) {
		return nil // keep defaults
	}
	if n.Kind != yaml.MappingNode {
		return d.errAt(n, path, "expected a mapping, got %s", describe(n))
	}
	return d.decodeFields(n, v, path, nil)
}

// decodeFields decodes the keys of mapping n into the fields of struct v,
// skipping keys in skip (handled by the caller).
func (d *decoder) decodeFields(n *yaml.Node, v reflect.Value, path string, skip map[string]bool) error {
	idx, names := fieldsOf(v.Type())
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		kp := joinPath(path, key)
		if err := d.checkKey(k, kp, seen); err != nil {
			return err
		}
		if skip[key] {
			continue
		}
		fi, ok := idx[key]
		if !ok {
			where := "here"
			if path != "" {
				where = "in " + path
			}
			return d.errAt(k, kp, "unknown key%s; known keys %s: %s", didYouMean(key, names), where, oneOf(names))
		}
		if isNull(resolve(val)) {
			// key: null (in the file, --set key=null, NETTRAIN_KEY=null)
			// is the key left out: its default, whatever its type.
			continue
		}
		if err := d.decode(val, v.FieldByIndex(fi), kp); err != nil {
			return err
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// keyNode finds the value node of key in mapping n (nil if absent).
func keyNode(n *yaml.Node, key string) (k, v *yaml.Node) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], resolve(n.Content[i+1])
		}
	}
	return nil, nil
}

// paramNode hands a YAML value to a layer parameter type that decodes
// itself (backprop.ParamValue), locating its errors at the value.
type paramNode struct {
	d    *decoder
	n    *yaml.Node
	path string
}

func (p paramNode) IsInt() bool { return p.n.Kind == yaml.ScalarNode && p.n.Tag == "!!int" }

func (p paramNode) Int() (int, error) {
	var i int
	err := p.d.decodeScalar(p.n, reflect.ValueOf(&i).Elem(), p.path)
	return i, err
}

func (p paramNode) String() (string, bool) {
	if p.n.Kind == yaml.ScalarNode && p.n.Tag == "!!str" {
		return p.n.Value, true
	}
	return "", false
}

func (p paramNode) List() []backprop.ParamNode {
	if p.n.Kind != yaml.SequenceNode {
		return nil
	}
	l := make([]backprop.ParamNode, len(p.n.Content))
	for i, c := range p.n.Content {
		l[i] = paramNode{p.d, resolve(c), fmt.Sprintf("%s[%d]", p.path, i)}
	}
	return l
}

func (p paramNode) Describe() string { return describeLen(p.n) }

func (p paramNode) Errorf(format string, args ...any) error {
	return p.d.errAt(p.n, p.path, format, args...)
}
