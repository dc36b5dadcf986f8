package infer

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nettrain/nettrain/internal/data"
)

// A source yields new inputs in chunks, as data sets in the training
// data's format (features, and labels when the input has them), with a
// name for each sample: a file, "file.csv:line" or "file.safetensors[i]".
type source interface {
	// next reads up to max samples; io.EOF when none is left.
	next(max int) (*data.Dataset, []string, error)
	// total is the number of samples, or -1 when unknown until read.
	total() int
	close()
}

// inputKind classifies one INPUT argument of predict.
func inputKind(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s: cannot read input: %v", path, errorsUnwrapPath(err))
	}
	switch ext := strings.ToLower(filepath.Ext(path)); {
	case st.IsDir():
		return "folder", nil
	case ext == ".csv":
		return "csv", nil
	case ext == ".safetensors":
		return "safetensors", nil
	case data.IsImageFile(path):
		return "image", nil
	}
	return "", fmt.Errorf("%s: not an input predict reads: want an image (.png, .jpg, .jpeg, .gif, .bmp, .webp), a folder of images, a .csv file or a .safetensors file with x", path)
}

// errorsUnwrapPath drops the path from an *fs.PathError, which the
// message names already.
func errorsUnwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// imageSource decodes image files in chunks, in parallel, exactly as
// training reads image folders (data.ReadImageLimit, within the memory
// limit). Labels come from the
// class folders an input folder holds, when their names are training
// classes.
type imageSource struct {
	files  []string
	labels []int32 // per file; nil when unlabelled
	opts   data.ImageOptions
	shape  []int
	// classes and names of the labels (the training classes).
	classes int
	names   []string
	workers int    // at most, one a processor
	limit   int64  // the memory limit: no image needing more is decoded, and it bounds the images decoded at once (data.ImageWorkers)
	what    string // names the limit in messages
	pos     int
	buf     []uint8
}

// imageOptions is how image files become samples for a model: as its
// training images were read, or, for a model trained on IDX or
// safetensors images, decoded to its input's channels and size.
func imageOptions(p *data.ImageOptions, input []int, what string) (data.ImageOptions, error) {
	if p != nil {
		return *p, nil
	}
	if len(input) != 3 || (input[0] != 1 && input[0] != 3) {
		return data.ImageOptions{}, fmt.Errorf("%s: the model was trained on samples of shape %v, not on images of 1 or 3 channels (C, H, W)", what, input)
	}
	return data.ImageOptions{Channels: input[0], Size: [2]int{input[1], input[2]}, Resize: "bilinear"}, nil
}

func (s *imageSource) total() int { return len(s.files) }
func (s *imageSource) close()     {}

func (s *imageSource) next(max int) (*data.Dataset, []string, error) {
	n := min(max, len(s.files)-s.pos)
	if n <= 0 {
		return nil, nil, io.EOF
	}
	f := s.opts.Channels * s.opts.Size[0] * s.opts.Size[1]
	if cap(s.buf) < n*f {
		s.buf = make([]uint8, n*f)
	}
	ds := &data.Dataset{Source: "images", Shape: s.shape, N: n, U8: s.buf[:n*f]}
	files := s.files[s.pos : s.pos+n]
	errs := make([]error, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(data.ImageWorkers(files, s.opts, s.workers, s.limit), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = data.ReadImageLimit(files[i], s.opts, ds.U8[i*f:(i+1)*f], s.limit, s.what)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	if s.labels != nil {
		ds.Labels = slices.Clone(s.labels[s.pos : s.pos+n])
		ds.NumClasses, ds.ClassNames = s.classes, s.names
	}
	s.pos += n
	return ds, files, nil
}

// listImages lists the image files of a folder, recursively, in sorted
// order (hidden files and folders skipped; symbolic links to folders are
// not followed, so a link loop cannot trap it). When every entry of the
// subfolder is named after a training class (a name of names, or a class
// id when the classes have no names) and no image lies beside them, each
// image is labelled with its class folder. skipped counts the files that
// are not images.
func listImages(dir string, classes int, names []string) (files []string, labels []int32, skipped int, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s: cannot read folder: %v", dir, errorsUnwrapPath(err))
	}
	classOf := func(name string) (int32, bool) {
		if names != nil {
			i := slices.Index(names, name)
			return int32(i), i >= 0
		}
		id, err := strconv.Atoi(name)
		return int32(id), err == nil && id >= 0 && id < classes && strconv.Itoa(id) == name
	}
	labelled, dirs := classes > 0, 0
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "."):
		case e.IsDir():
			dirs++
			if _, ok := classOf(e.Name()); !ok {
				labelled = false
			}
		case data.IsImageFile(e.Name()):
			labelled = false // an image outside the class folders
		}
	}
	labelled = labelled && dirs > 0
	err = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: cannot read: %v", path, errorsUnwrapPath(err))
		}
		if path != dir && strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			return nil
		}
		if !data.IsImageFile(path) {
			skipped++
			return nil
		}
		files = append(files, path)
		if labelled {
			rel, _ := filepath.Rel(dir, path)
			c, _ := classOf(strings.SplitN(filepath.ToSlash(rel), "/", 2)[0])
			labels = append(labels, c)
		}
		return nil
	})
	if err != nil {
		return nil, nil, 0, err
	}
	if len(files) == 0 {
		return nil, nil, 0, fmt.Errorf("%s: the folder holds no image files (.png, .jpg, .jpeg, .gif, .bmp, .webp)", dir)
	}
	return files, labels, skipped, nil
}

// csvSource reads a CSV file's rows in chunks (data.CSVStream).
type csvSource struct {
	s    *data.CSVStream
	name string
}

func (c *csvSource) total() int { return -1 }
func (c *csvSource) close()     { c.s.Close() }
func (c *csvSource) next(max int) (*data.Dataset, []string, error) {
	ds, lines, err := c.s.Next(max)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = c.name + ":" + strconv.Itoa(l)
	}
	return ds, ids, nil
}

// setSource yields the samples of a data set held in memory (a
// safetensors file's x, and y when it has one).
type setSource struct {
	ds  *data.Dataset
	pos int
}

func (s *setSource) total() int { return s.ds.N }
func (s *setSource) close()     {}
func (s *setSource) next(max int) (*data.Dataset, []string, error) {
	n := min(max, s.ds.N-s.pos)
	if n <= 0 {
		return nil, nil, io.EOF
	}
	c := s.ds.Slice(s.pos, s.pos+n)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s[%d]", filepath.Base(s.ds.Source), s.pos+i)
	}
	s.pos += n
	return c, ids, nil
}
