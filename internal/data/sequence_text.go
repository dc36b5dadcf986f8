package data

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// ParseText reads a text sequence, character by character, from the
// UTF-8 bytes text; name labels messages and becomes the Source. A
// leading byte order mark is dropped; every byte that is not part of a
// valid UTF-8 encoding reads as one U+FFFD (utf8.RuneError), as Go's range
// over a string does. The vocabulary is built from the training region
// only (see Sequence.Vocab). Token ids are stored as uint16 when the
// vocabulary has at most 65536 tokens, else as int32, so the sequence
// costs 2 (or 4) bytes per character besides text, which the caller may
// drop afterwards. Text and token ids together may not need more than
// opts.MaxBytes.
func ParseText(name string, text []byte, opts SeqOptions) (seq *Sequence, train, val Windows, err error) {
	if err := opts.check(name, SeqText); err != nil {
		return nil, Windows{}, Windows{}, err
	}
	text = text[len(bomPrefix(text)):]
	if len(text) == 0 {
		return nil, Windows{}, Windows{}, fmt.Errorf("%s: text file is empty", name)
	}
	if err := checkUTF8(name, text); err != nil {
		return nil, Windows{}, Windows{}, err
	}
	n := utf8.RuneCount(text)
	trainEnd, valStart, err := splitRegions(name, n, opts)
	if err != nil {
		return nil, Windows{}, Windows{}, err
	}
	seq = &Sequence{Source: name, Kind: SeqText, N: n}
	seq.setSpec(opts, trainEnd, valStart)

	// The vocabulary: the distinct runes of positions [0, trainEnd).
	var seenASCII [utf8.RuneSelf]bool
	other := map[rune]struct{}{}
	for p, i := 0, 0; p < trainEnd; p++ {
		r, size := decodeRune(text[i:])
		i += size
		if r < utf8.RuneSelf {
			seenASCII[r] = true
		} else {
			other[r] = struct{}{}
		}
	}
	for r, seen := range seenASCII {
		if seen {
			seq.runes = append(seq.runes, rune(r))
		}
	}
	for r := range other {
		seq.runes = append(seq.runes, r)
	}
	slices.Sort(seq.runes)
	seq.Vocab = make([]string, 1, 1+len(seq.runes))
	seq.Vocab[0] = UnknownToken
	for id, r := range seq.runes {
		seq.Vocab = append(seq.Vocab, string(r))
		if r < utf8.RuneSelf {
			seq.ascii[r] = int32(id + 1)
		}
	}

	// Token ids for every position, checked against the limit first.
	idBytes := int64(2)
	if len(seq.Vocab) > 1<<16 {
		idBytes = 4
	}
	content := fmt.Sprintf("the text and its token ids (%d bytes per character)", idBytes)
	if err := opts.limit().check(name, content, int64(len(text))+mulBytes(int64(n), idBytes)); err != nil {
		return nil, Windows{}, Windows{}, err
	}
	if idBytes == 2 {
		seq.ids16 = make([]uint16, n)
		encodeInto(seq, seq.ids16, text)
	} else {
		seq.ids32 = make([]int32, n)
		encodeInto(seq, seq.ids32, text)
	}
	train, val = seq.split()
	return seq, train, val, nil
}

// bomPrefix returns the UTF-8 byte order mark b starts with, if any.
func bomPrefix(b []byte) []byte {
	if len(b) >= 3 && string(b[:3]) == "\ufeff" {
		return b[:3]
	}
	return nil
}

// decodeRune decodes the first rune of b (not empty), with an ASCII fast
// path; an invalid byte is U+FFFD of size 1.
func decodeRune(b []byte) (rune, int) {
	if b[0] < utf8.RuneSelf {
		return rune(b[0]), 1
	}
	return utf8.DecodeRune(b)
}

// encodeInto writes the token id of every rune of text into dst.
func encodeInto[I uint16 | int32](s *Sequence, dst []I, text []byte) {
	i := 0
	for p := range dst {
		r, size := decodeRune(text[i:])
		i += size
		dst[p] = I(s.id(r))
	}
}

// id returns the token id of r: 0 (<unk>) when r is not in the vocabulary.
func (s *Sequence) id(r rune) int32 {
	if r >= 0 && r < utf8.RuneSelf {
		return s.ascii[r]
	}
	if k, ok := slices.BinarySearch(s.runes, r); ok {
		return int32(k + 1)
	}
	return 0
}

// Encode returns the token ids of the runes of text; characters outside
// the vocabulary (and so invalid UTF-8, unless U+FFFD is in it) get 0,
// <unk>. It panics for a series.
func (s *Sequence) Encode(text string) []int32 {
	s.mustBeText("Encode")
	ids := make([]int32, 0, utf8.RuneCountInString(text))
	for _, r := range text {
		ids = append(ids, s.id(r))
	}
	return ids
}

// Decode returns the text of token ids; <unk> (0) becomes U+FFFD, the
// Unicode replacement character, so the result is plain text. An id
// outside the vocabulary is a programming error and panics, as does a
// series.
func (s *Sequence) Decode(ids []int32) string {
	s.mustBeText("Decode")
	var b strings.Builder
	for _, id := range ids {
		switch {
		case id == 0:
			b.WriteRune(utf8.RuneError)
		case id > 0 && int(id) < len(s.Vocab):
			b.WriteRune(s.runes[id-1])
		default:
			panic(fmt.Sprintf("data: Decode: token id %d out of range: the vocabulary has %d tokens", id, len(s.Vocab)))
		}
	}
	return b.String()
}

func (s *Sequence) mustBeText(op string) {
	if s.Kind != SeqText {
		panic(fmt.Sprintf("data: %s: %s is a %s, not a text", op, s.Source, s.Kind))
	}
}

// checkUTF8 names the line and column (in characters) of the first byte
// of text that is not UTF-8: such bytes would each become one "\ufffd"
// character of the vocabulary, unnoticed.
func checkUTF8(name string, text []byte) error {
	if utf8.Valid(text) {
		return nil
	}
	line, col := 1, 1
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		if r == utf8.RuneError && size <= 1 {
			return fmt.Errorf("%s:%d:%d: byte 0x%02x is not UTF-8: a text model reads a UTF-8 file (convert it, e.g. with iconv)", name, line, col, text[i])
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return nil
}
