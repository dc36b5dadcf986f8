// Package finitejson writes JSON for values that may hold NaN or ±Inf,
// which encoding/json refuses ("json: unsupported value: NaN"): a model
// whose outputs overflow gives a NaN loss or prediction, and the report of
// it must still be written.
//
// Invariants:
//   - A value without non-finite floats is written exactly as
//     encoding/json writes it (the same bytes: it is encoding/json that
//     writes it).
//   - Otherwise every NaN, +Inf and -Inf float becomes null and everything
//     else is written as encoding/json would: struct field names, order and
//     tags ("-", omitempty), embedded structs, maps, and values with their
//     own MarshalJSON or MarshalText.
package finitejson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
)

// Marshal is json.Marshal with non-finite floats written as null.
func Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	var unsupported *json.UnsupportedValueError
	if errors.As(err, &unsupported) {
		return json.Marshal(Clean(v))
	}
	return b, err
}

// Encode writes v to w as json.Encoder does (one value and a newline),
// indented by indent when it is not empty, with non-finite floats written
// as null.
func Encode(w io.Writer, v any, indent string) error {
	b, err := Marshal(v)
	if err != nil {
		return err
	}
	if indent != "" {
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", indent); err != nil {
			return err
		}
		b = out.Bytes()
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Clean returns a copy of v that encoding/json can write, with every
// non-finite float replaced by nil (JSON null); see the package invariants.
func Clean(v any) any { return clean(reflect.ValueOf(v)) }

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	anyType           = reflect.TypeFor[any]()
)

func clean(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
	}
	t := v.Type()
	if t.Implements(marshalerType) || t.Implements(textMarshalerType) {
		if b, err := json.Marshal(v.Interface()); err == nil {
			return json.RawMessage(b)
		}
		// Its own encoding failed (a NaN inside it): write what it holds.
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return v.Interface()
	case reflect.Pointer, reflect.Interface:
		return clean(v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return v.Interface() // []byte: base64, as encoding/json writes it
		}
		fallthrough
	case reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = clean(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		// The same key type, so that keys are written as encoding/json
		// writes them (strings, integers, MarshalText).
		out := reflect.MakeMapWithSize(reflect.MapOf(t.Key(), anyType), v.Len())
		it := v.MapRange()
		for it.Next() {
			c := clean(it.Value())
			cv := reflect.New(anyType).Elem()
			if c != nil {
				cv.Set(reflect.ValueOf(c))
			}
			out.SetMapIndex(it.Key(), cv)
		}
		return out.Interface()
	case reflect.Struct:
		var o object
		o.add(v)
		return o
	}
	return v.Interface()
}

// object is a struct's fields in order, written as a JSON object.
type object []field

type field struct {
	name string
	val  any
}

// add appends v's exported fields as encoding/json names them, inlining
// embedded structs without a name in their tag.
func (o *object) add(v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			}
			if ft.Kind() == reflect.Struct {
				o.add(fv)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if hasOption(opts, "omitempty") && isEmpty(fv) {
			continue
		}
		*o = append(*o, field{name, clean(fv)})
	}
}

func hasOption(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

// isEmpty is encoding/json's omitempty test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0 // -0 too, as encoding/json
	}
	return false
}

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.name)
		b.Write(k)
		b.WriteByte(':')
		val, err := json.Marshal(f.val)
		if err != nil {
			return nil, err
		}
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
