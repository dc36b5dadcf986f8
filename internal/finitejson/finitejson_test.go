package finitejson

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

type inner struct {
	X float64 `json:"x"`
}

type Embedded struct {
	E float32 `json:"e"`
}

type celsius float64

func (c celsius) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]float64{"c": float64(c)})
}

type sample struct {
	Embedded
	Name    string             `json:"name"`
	Loss    float64            `json:"loss"`
	Values  []float64          `json:"values"`
	Grid    [2]float32         `json:"grid"`
	Opt     *float64           `json:"opt,omitempty"`
	Skipped float64            `json:"-"`
	Empty   []int              `json:"empty,omitempty"`
	Zero    float64            `json:"zero,omitempty"`
	ByName  map[string]float64 `json:"by_name"`
	ByID    map[int]any        `json:"by_id"`
	Inner   inner              `json:"inner"`
	Ptr     *inner             `json:"ptr"`
	Raw     []byte             `json:"raw"`
	When    time.Duration      `json:"when"`
	Temp    celsius            `json:"temp"`
	Untag   int
	hidden  float64
}

func full(nan float64) sample {
	one := 1.5
	return sample{
		Embedded: Embedded{E: float32(nan)},
		Name:     "a<b",
		Loss:     nan,
		Values:   []float64{1, nan, -0.25},
		Grid:     [2]float32{float32(nan), 2},
		Opt:      &one,
		Zero:     -0.0,
		ByName:   map[string]float64{"b": nan, "a": 1},
		ByID:     map[int]any{2: nan, 1: "x"},
		Inner:    inner{X: nan},
		Ptr:      &inner{X: 3},
		Raw:      []byte("hi"),
		When:     time.Second,
		Temp:     celsius(21),
		Untag:    7,
		hidden:   nan,
	}
}

func TestFiniteValuesAreWrittenAsEncodingJSONWritesThem(t *testing.T) {
	for _, v := range []any{
		full(0.5),
		[]any{1.0, "s", nil, map[string]int{"k": 1}},
		map[string]any{"z": []float32{1, 2}, "a": nil},
		(*inner)(nil),
		3.25,
		struct{}{},
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(Clean(v))
		if err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%T: Clean wrote\n%s\nencoding/json\n%s", v, got, want)
		}
	}
}

func TestNonFiniteFloatsBecomeNull(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"NaN", math.NaN(), `null`},
		{"+Inf in a slice", []float64{1, math.Inf(1)}, `[1,null]`},
		{"-Inf in a map", map[string]float32{"a": float32(math.Inf(-1))}, `{"a":null}`},
		{"struct", full(math.NaN()),
			`{"e":null,"name":"a\u003cb","loss":null,"values":[1,null,-0.25],"grid":[null,2],"opt":1.5,` +
				`"by_name":{"a":1,"b":null},"by_id":{"1":"x","2":null},"inner":{"x":null},"ptr":{"x":3},` +
				`"raw":"aGk=","when":1000000000,"temp":{"c":21},"Untag":7}`},
		{"own MarshalJSON failing", celsius(math.NaN()), `null`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := json.Marshal(tc.v); err == nil {
				t.Fatalf("encoding/json wrote %v: the case tests nothing", tc.v)
			}
			got, err := Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestEncodeIndentsAsAnEncoder(t *testing.T) {
	v := full(2)
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := Encode(&got, v, "  "); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("Encode wrote\n%s\njson.Encoder\n%s", got.String(), want.String())
	}
	got.Reset()
	if err := Encode(&got, full(math.Inf(1)), ""); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got.String(), "}\n") || strings.Count(got.String(), "\n") != 1 {
		t.Errorf("one line and a newline expected, got %q", got.String())
	}
}
