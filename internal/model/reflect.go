package model

import (
	"encoding/json"
	"reflect"
)

func reflectValue(p any) reflect.Value { return reflect.ValueOf(p).Elem() }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
