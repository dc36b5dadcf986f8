package guide

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/nettrain/nettrain/internal/safeio"
)

// LicencesDir is where Debian and Ubuntu keep the common licence texts.
const LicencesDir = "/usr/share/common-licenses"

// Licence bag-of-words data set: each sample is one paragraph of a licence
// text, its features whether each of the vocabulary's words occurs in it
// (0 or 1), its label the licence it comes from. Built deterministically:
//
//   - the licences are the regular files of the directory (symlinks
//     followed: GPL is GPL-3), named by their real file and taken in name
//     order, a text that another file already holds counted once;
//   - paragraphs are separated by blank lines; words are the maximal runs
//     of ASCII letters, lower-cased; a paragraph of fewer than minWords
//     words is dropped, and so is every paragraph whose word sequence
//     occurs in more than one licence (shared boilerplate would be
//     labelled twice);
//   - the vocabulary is the vocabSize words in the most paragraphs (ties:
//     alphabetical), among words in at least minDocs paragraphs;
//   - the rows are shuffled by a fixed seed, so that a validation split
//     is a sample of every licence.
const (
	minWords  = 8
	minDocs   = 3
	vocabSize = 1000
)

// LicenceData describes a written data set.
type LicenceData struct {
	CSV        string   // the CSV file: w_<word>... columns, then licence
	Classes    []string // licence names, by label
	Paragraphs int
	Vocab      int
	// Density is the mean fraction of non-zero features per paragraph.
	Density float64
}

type paragraph struct {
	words []string
	label int
}

// WriteLicenceBOW builds the data set from the licence texts in src and
// writes dir/licences-bow.csv and dir/licences-bow.classes.txt (the
// licence of each label, one a line).
func WriteLicenceBOW(src, dir string) (*LicenceData, error) {
	entries, err := os.ReadDir(src)
	if err != nil {
		return nil, fmt.Errorf("licence data set: %w (the texts come with Debian's base-files package)", err)
	}
	var names []string
	seenText := map[[32]byte]bool{}
	var texts [][]byte
	real := map[string]bool{}
	for _, e := range entries {
		path, err := filepath.EvalSymlinks(filepath.Join(src, e.Name()))
		if err != nil {
			continue
		}
		real[path] = true
	}
	for _, path := range slices.Sorted(maps.Keys(real)) {
		st, err := os.Stat(path)
		if err != nil || !st.Mode().IsRegular() || st.Size() > 1<<20 {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		h := sha256.Sum256(b)
		if seenText[h] {
			continue
		}
		seenText[h] = true
		names = append(names, filepath.Base(path))
		texts = append(texts, b)
	}
	if len(names) < 2 {
		return nil, fmt.Errorf("licence data set: %s holds %d licence texts, need at least 2", src, len(names))
	}
	var paras []paragraph
	owners := map[string]map[int]bool{}
	for label, b := range texts {
		for _, p := range splitParagraphs(string(b)) {
			w := words(p)
			if len(w) < minWords {
				continue
			}
			key := strings.Join(w, " ")
			if owners[key] == nil {
				owners[key] = map[int]bool{}
			}
			owners[key][label] = true
			paras = append(paras, paragraph{words: w, label: label})
		}
	}
	kept := paras[:0]
	for _, p := range paras {
		if len(owners[strings.Join(p.words, " ")]) == 1 {
			kept = append(kept, p)
		}
	}
	paras = kept
	// Vocabulary: document frequency.
	df := map[string]int{}
	for _, p := range paras {
		seen := map[string]bool{}
		for _, w := range p.words {
			if !seen[w] {
				seen[w] = true
				df[w]++
			}
		}
	}
	var vocab []string
	for w, n := range df {
		if n >= minDocs {
			vocab = append(vocab, w)
		}
	}
	sort.Slice(vocab, func(i, j int) bool {
		if df[vocab[i]] != df[vocab[j]] {
			return df[vocab[i]] > df[vocab[j]]
		}
		return vocab[i] < vocab[j]
	})
	if len(vocab) > vocabSize {
		vocab = vocab[:vocabSize]
	}
	sort.Strings(vocab)
	index := map[string]int{}
	for i, w := range vocab {
		index[w] = i
	}
	rng := rand.New(rand.NewPCG(2026, 14))
	rng.Shuffle(len(paras), func(i, j int) { paras[i], paras[j] = paras[j], paras[i] })
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	out := &LicenceData{CSV: filepath.Join(dir, "licences-bow.csv"), Classes: names, Paragraphs: len(paras), Vocab: len(vocab)}
	nonzero := 0
	err = safeio.WriteWith(out.CSV, func(w0 io.Writer) error {
		w := bufio.NewWriter(w0)
		for _, v := range vocab {
			fmt.Fprintf(w, "w_%s,", v)
		}
		w.WriteString("licence\n")
		row := make([]byte, 2*len(vocab))
		for _, p := range paras {
			for i := range vocab {
				row[2*i], row[2*i+1] = '0', ','
			}
			for _, word := range p.words {
				if i, ok := index[word]; ok {
					if row[2*i] == '0' {
						nonzero++
					}
					row[2*i] = '1'
				}
			}
			w.Write(row)
			fmt.Fprintf(w, "%d\n", p.label)
		}
		return w.Flush()
	})
	if err != nil {
		return nil, err
	}
	out.Density = float64(nonzero) / float64(max(1, len(paras)*len(vocab)))
	classes := strings.Join(names, "\n") + "\n"
	if err := safeio.WriteFile(filepath.Join(dir, "licences-bow.classes.txt"), []byte(classes)); err != nil {
		return nil, err
	}
	return out, nil
}

// splitParagraphs cuts a text at blank lines.
func splitParagraphs(s string) []string {
	var out []string
	var cur []string
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				out = append(out, strings.Join(cur, " "))
				cur = nil
			}
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		out = append(out, strings.Join(cur, " "))
	}
	return out
}

// words are the maximal runs of ASCII letters of s, lower-cased.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r < 'a' || r > 'z' })
}
