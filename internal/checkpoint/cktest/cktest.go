// Package cktest edits checkpoint files for tests. Edit rewrites a
// checkpoint's metadata or tensor values and then makes the checksums the
// file carries valid again, so that a test reaches the checks that come
// after them (ranges, consistency with the config and the data, finite
// values) instead of stopping at the checksum. Nothing outside tests
// imports it.
//
// Its checksums are computed here from the documented encodings (see the
// package checkpoint documentation), not with package checkpoint's code, so
// a test that passes through Edit also checks that the two agree.
package cktest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"regexp"
	"slices"
	"strconv"

	"github.com/nettrain/nettrain/internal/safetensors"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Edit reads the checkpoint src, lets edit change its metadata and its
// tensors (each as []float32 or []float64, by name; deleting one removes
// it), recomputes the tensors' CRC-32C in "checksums" and, when the file
// carries one, "metadata_checksum", and writes the result to dst. A nil
// edit copies the file with fresh checksums.
func Edit(src, dst string, edit func(meta map[string]string, tensors map[string]any)) error {
	return edit1(src, dst, edit, true)
}

// EditStale is Edit without recomputing "metadata_checksum": it keeps the
// value the edit leaves, so that the metadata no longer matches it (a
// corrupt file). The tensors' checksums are still made valid.
func EditStale(src, dst string, edit func(meta map[string]string, tensors map[string]any)) error {
	return edit1(src, dst, edit, false)
}

func edit1(src, dst string, edit func(meta map[string]string, tensors map[string]any), fixMeta bool) error {
	f, err := safetensors.Read(src)
	if err != nil {
		return err
	}
	meta := map[string]string{}
	for k, v := range f.Metadata {
		meta[k] = v
	}
	tensors := map[string]any{}
	shapes := map[string][]int{}
	order := f.Names()
	for _, name := range order {
		info, _ := f.Info(name)
		shapes[name] = info.Shape
		if info.DType == safetensors.F64 {
			tensors[name], _, err = f.Float64(name)
		} else {
			tensors[name], _, err = f.Float32(name)
		}
		if err != nil {
			return err
		}
	}
	if edit != nil {
		edit(meta, tensors)
	}
	var ts []safetensors.Tensor
	sums := map[string]string{}
	for _, name := range order {
		data, ok := tensors[name]
		if !ok {
			continue
		}
		ts = append(ts, safetensors.Tensor{Name: name, Shape: shapes[name], Data: data})
		sums[name] = fmt.Sprintf("%08x", crc32.Checksum(rawLE(data), castagnoli))
	}
	if _, ok := meta["checksums"]; ok {
		js, _ := json.Marshal(sums)
		meta["checksums"] = string(js)
	}
	if _, ok := meta["metadata_checksum"]; ok && fixMeta {
		meta["metadata_checksum"] = MetadataChecksum(meta)
	}
	return safetensors.Write(dst, ts, meta)
}

// MetadataChecksum is the CRC-32C (8 lower-case hex digits) of every
// metadata entry but "metadata_checksum" itself, sorted by key, each
// encoded as "<len(key)>:<key><len(value)>:<value>" with the lengths in
// bytes, in decimal.
func MetadataChecksum(meta map[string]string) string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		if k != "metadata_checksum" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b []byte
	for _, k := range keys {
		b = strconv.AppendInt(b, int64(len(k)), 10)
		b = append(b, ':')
		b = append(b, k...)
		b = strconv.AppendInt(b, int64(len(meta[k])), 10)
		b = append(b, ':')
		b = append(b, meta[k]...)
	}
	return fmt.Sprintf("%08x", crc32.Checksum(b, castagnoli))
}

// rawLE is the little-endian bytes of a float slice, as safetensors stores
// them.
func rawLE(data any) []byte {
	switch v := data.(type) {
	case []float32:
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		return b
	case []float64:
		b := make([]byte, 8*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
		}
		return b
	}
	panic(fmt.Sprintf("cktest: tensor data of type %T", data))
}

// AsOlder writes the checkpoint src to dst as an older nettrain wrote it:
// its stored config without the lines drop matches, and the config hash
// and resume sections of that older config (configHash, and
// resumeSections as JSON).
func AsOlder(src, dst string, drop *regexp.Regexp, configHash string, resumeSections any) error {
	js, err := json.Marshal(resumeSections)
	if err != nil {
		return err
	}
	return Edit(src, dst, func(meta map[string]string, _ map[string]any) {
		meta["config"] = drop.ReplaceAllString(meta["config"], "")
		meta["config_hash"] = configHash
		meta["resume_sections"] = string(js)
	})
}
