package model

import (
	"bytes"
	"io"

	"gopkg.in/yaml.v3"
)

// unmarshalOne decodes the one YAML document of src into doc. A second
// document (after ---), which yaml.Unmarshal would silently drop, is an
// *Error at the line where it starts; syntax errors, in either document,
// are returned as yaml reports them.
func unmarshalOne(file string, src []byte, doc *yaml.Node) error {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(doc); err != nil {
		if err == io.EOF {
			return nil // no document at all: doc stays empty
		}
		return err
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != nil {
		if err == io.EOF {
			return nil
		}
		return err
	}
	return &Error{File: file, Line: next.Line, Col: next.Column,
		Msg: "a second YAML document starts here; a config is a single document: merge its keys into the first one or remove it"}
}
