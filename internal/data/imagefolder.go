package data

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// FolderOptions says how LoadImageFolder reads an image folder.
type FolderOptions struct {
	// Channels is 1 or 3 (see ImageOptions); 0 takes it from the images:
	// 1 when every image's header says grayscale, else 3.
	Channels int
	// Size is [height, width]; every image is resized to it when its size
	// differs. The zero value takes the size of the images, which must
	// then all have the same.
	Size [2]int
	// Resize is bilinear or nearest (see ImageOptions); empty means
	// bilinear.
	Resize string
	// SkipBad skips the files that cannot be read as images (with an
	// unsupported extension, a corrupt, truncated or empty image, a
	// folder or a dangling link inside a class folder) instead of
	// failing; Dataset.Skipped lists them.
	SkipBad bool
}

// folderFile is one image of a folder: its path and class id.
type folderFile struct {
	path  string
	label int32
}

// LoadImageFolder reads an image folder with one subfolder per class, as
// torchvision's ImageFolder does: class i is the i-th subfolder name in
// sorted (byte) order and ClassNames are the names; with cm (validation
// and test folders), a subfolder's name must be one of the training
// classes (cm.Names, or a class id "0", "1", ... below cm.NumClasses when
// the training classes have no names), and the ids are the training ones.
//
// Samples are in order of class folder, then of file name within it
// (bytewise). Names starting with "." are ignored everywhere. Image files
// directly in the folder are an error (they have no class), other files
// there (a README) are ignored. In a class folder, every other entry must
// be an image file (IsImageFile: .png, .jpg, .jpeg, .gif, .bmp, .webp,
// any case); anything else is an error naming it unless o.SkipBad. A
// class folder without images is an error.
//
// Every header is read first, in parallel: an image larger than
// MaxImagePixels is refused, the size and channels are settled (see
// FolderOptions), and the data set's N*C*H*W bytes and N labels are
// checked against lim before they are allocated. Then the images are
// decoded in parallel (GOMAXPROCS workers, fewer when lim, less the data
// set, cannot hold that many images being decoded and resized at once:
// imageBytes, decodeWorkers; an image that lim, less the data set, cannot
// hold on its own is refused undecoded; each image once) straight into
// their place in Dataset.U8, shape [C H W] as IDX images are. Errors
// are reported for the first bad file in sample order, whatever the
// scheduling, so the message does not change between runs.
func LoadImageFolder(root string, o FolderOptions, cm *ClassMap) (*Dataset, error) {
	return loadImageFolder(root, o, cm, limit{})
}

func loadImageFolder(root string, o FolderOptions, cm *ClassMap, lim limit) (*Dataset, error) {
	if o.Channels != 0 && o.Channels != 1 && o.Channels != 3 {
		return nil, fmt.Errorf("%s: image channels %d: want 1 (grayscale) or 3 (RGB)", root, o.Channels)
	}
	if _, err := resizer(o.Resize); err != nil {
		return nil, fmt.Errorf("%s: %v", root, err)
	}
	if o.Size != [2]int{} {
		if o.Size[0] < 1 || o.Size[1] < 1 || o.Size[0] > MaxImagePixels/o.Size[1] {
			return nil, fmt.Errorf("%s: image size %dx%d (height x width): want positive sides and at most %d pixels", root, o.Size[0], o.Size[1], MaxImagePixels)
		}
	}
	classes, err := classFolders(root, cm)
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Source: root}
	var files []folderFile
	for _, c := range classes {
		found := 0
		entries, err := os.ReadDir(c.path)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot list the class folder: %v", c.path, unwrapPath(err))
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			p := filepath.Join(c.path, e.Name())
			if err := checkEntry(p, e); err != nil {
				if !o.SkipBad {
					return nil, err
				}
				ds.Skipped = append(ds.Skipped, err.Error())
				continue
			}
			files = append(files, folderFile{p, c.label})
			found++
		}
		if found == 0 {
			return nil, fmt.Errorf("%s: class folder %q has no images (want %s files)", c.path, c.name, imageExtList)
		}
	}

	// Headers, in parallel.
	heads := make([]imageHeader, len(files))
	errs := make([]error, len(files))
	parallel(len(files), func(i int) {
		f, _, h, err := openImage(files[i].path, lim)
		if err == nil {
			f.Close()
		}
		heads[i], errs[i] = h, err
	})
	files, heads, err = dropBad(ds, files, heads, errs, o.SkipBad)
	if err != nil {
		return nil, err
	}
	if err := checkClassesLeft(root, classes, files); err != nil {
		return nil, err
	}
	iopt := ImageOptions{Channels: o.Channels, Size: o.Size, Resize: o.Resize}
	if iopt.Channels == 0 {
		iopt.Channels = 1
		for _, h := range heads {
			if !h.gray {
				iopt.Channels = 3
				break
			}
		}
	}
	if iopt.Size == [2]int{} {
		iopt.Size = [2]int{heads[0].h, heads[0].w}
		for i, h := range heads {
			if h.w != heads[0].w || h.h != heads[0].h {
				return nil, fmt.Errorf("%s: is %dx%d pixels (width x height), but %s is %dx%d; give every image the same size, or set data.image.size to resize them to one",
					files[i].path, h.w, h.h, files[0].path, heads[0].w, heads[0].h)
			}
		}
	}
	f := iopt.Channels * iopt.Size[0] * iopt.Size[1]
	n := len(files)
	shape := []int{iopt.Channels, iopt.Size[0], iopt.Size[1]}
	need := mulBytes(int64(n), int64(f)+4)
	if err := lim.check(root, fmt.Sprintf("the data set (%d images of %v and %d labels)", n, shape, n), need); err != nil {
		return nil, err
	}

	// Pixels, in parallel, each image into its place, on as many
	// goroutines as the memory left beside the data set lets decode at
	// once (a large image takes hundreds of MiB while it is decoded and
	// resized); an image that does not fit beside the data set on its
	// own is refused by decodeInto, undecoded.
	var per int64
	for _, h := range heads {
		if n := imageBytes(h, iopt); lim.max <= 0 || n <= lim.max-need {
			per = max(per, n)
		}
	}
	u8 := make([]uint8, n*f)
	clear(errs[:n])
	errs = errs[:n]
	changes := make([]decodeChanges, n)
	parallelN(decodeWorkers(runtime.GOMAXPROCS(0), lim.max, need, per), n, func(i int) {
		fh, size, h, err := openImage(files[i].path, lim)
		if err != nil {
			errs[i] = err
			return
		}
		defer fh.Close()
		if h.w != heads[i].w || h.h != heads[i].h {
			errs[i] = fmt.Errorf("%s: changed while it was read (%dx%d pixels, then %dx%d)", files[i].path, heads[i].w, heads[i].h, h.w, h.h)
			return
		}
		changes[i], errs[i] = decodeInto(fh, files[i].path, size, h, iopt, u8[i*f:(i+1)*f], lim, need)
	})
	ds.Decoding = &ImageDecoding{Version: ImageDecoder}
	// Drop the samples that failed, moving the rest down in order.
	kept := 0
	for i := range files {
		if errs[i] != nil {
			if !o.SkipBad {
				return nil, errs[i]
			}
			ds.Skipped = append(ds.Skipped, errs[i].Error())
			continue
		}
		ds.Decoding.add(changes[i])
		if kept != i {
			copy(u8[kept*f:(kept+1)*f], u8[i*f:(i+1)*f])
		}
		files[kept] = files[i]
		kept++
	}
	files = files[:kept]
	if err := checkClassesLeft(root, classes, files); err != nil {
		return nil, err
	}
	ds.Shape, ds.N, ds.U8, ds.Image = shape, kept, u8[:kept*f:kept*f], &iopt
	if ds.Image.Resize == "" {
		ds.Image.Resize = "bilinear"
	}
	ds.Labels = make([]int32, kept)
	for i, fl := range files {
		ds.Labels[i] = fl.label
	}
	if cm != nil {
		ds.NumClasses, ds.ClassNames = cm.NumClasses, slices.Clone(cm.Names)
	} else {
		ds.NumClasses = len(classes)
		for _, c := range classes {
			ds.ClassNames = append(ds.ClassNames, c.name)
		}
	}
	return ds, ds.Check()
}

// classFolder is a class subfolder of an image folder.
type classFolder struct {
	name, path string
	label      int32
}

// classFolders lists root's class folders in sorted order, with their
// ids: their rank, or with cm the training class they name.
func classFolders(root string, cm *ClassMap) ([]classFolder, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot list the image folder: %v", root, unwrapPath(err))
	}
	var classes []classFolder
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(root, name)
		st, err := os.Stat(p) // follows a symlink to a class folder
		if err != nil {
			return nil, fmt.Errorf("%s: cannot read: %v", p, unwrapPath(err))
		}
		if !st.IsDir() {
			if IsImageFile(name) {
				return nil, fmt.Errorf("%s: an image directly in the image folder %s has no class; put each image in a subfolder named for its class (e.g. %s)",
					p, root, filepath.Join(root, "cat", name))
			}
			continue // a README or a label list beside the classes
		}
		c := classFolder{name: name, path: p, label: int32(len(classes))}
		if cm != nil {
			if c.label, err = cm.folderClass(name); err != nil {
				return nil, fmt.Errorf("%s: %v", p, err)
			}
		}
		classes = append(classes, c)
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("%s: no class folders: an image folder holds one subfolder per class (e.g. cat/, dog/), each holding that class's images", root)
	}
	return classes, nil
}

// folderClass is the training class id of a class folder's name.
func (cm *ClassMap) folderClass(name string) (int32, error) {
	if cm.Names != nil {
		if i := slices.Index(cm.Names, name); i >= 0 {
			return int32(i), nil
		}
		return 0, fmt.Errorf("class folder %q is not a training class (the training classes are %s)", name, quoteList(cm.Names))
	}
	id, err := strconv.Atoi(name)
	if err != nil || id < 0 || id >= cm.NumClasses || strconv.Itoa(id) != name {
		return 0, fmt.Errorf("class folder %q is not a training class: the training classes have no names, so a folder must be named for a class id (%s)", name, cm.describe())
	}
	return int32(id), nil
}

// quoteList formats names for messages, the first 20 of them.
func quoteList(names []string) string {
	q := make([]string, 0, min(len(names), 21))
	for i, n := range names {
		if i == 20 {
			q = append(q, fmt.Sprintf("... (%d in all)", len(names)))
			break
		}
		q = append(q, strconv.Quote(n))
	}
	return strings.Join(q, ", ")
}

// checkEntry reports an entry of a class folder that is not an image file.
func checkEntry(p string, e os.DirEntry) error {
	if e.Type()&os.ModeSymlink != 0 || e.IsDir() {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%s: cannot read: %v", p, unwrapPath(err))
		}
		if st.IsDir() {
			return fmt.Errorf("%s: a folder inside a class folder; images must be directly in their class folder", p)
		}
	}
	if !IsImageFile(p) {
		return fmt.Errorf("%s: not an image file: want %s (or set data.image.skip_bad to skip such files)", p, imageExtList)
	}
	return nil
}

// checkClassesLeft reports a class folder none of whose images could be
// read (the others were skipped).
func checkClassesLeft(root string, classes []classFolder, files []folderFile) error {
	have := map[int32]bool{}
	for _, f := range files {
		have[f.label] = true
	}
	for _, c := range classes {
		if !have[c.label] {
			return fmt.Errorf("%s: class folder %q has no readable images (every one was skipped)", c.path, c.name)
		}
	}
	return nil
}

// dropBad removes the files whose header failed (errs[i] != nil),
// recording them in ds.Skipped, or returns the first error without skip.
func dropBad(ds *Dataset, files []folderFile, heads []imageHeader, errs []error, skip bool) ([]folderFile, []imageHeader, error) {
	kept := 0
	for i := range files {
		if errs[i] != nil {
			if !skip {
				return nil, nil, errs[i]
			}
			ds.Skipped = append(ds.Skipped, errs[i].Error())
			continue
		}
		files[kept], heads[kept] = files[i], heads[i]
		kept++
	}
	return files[:kept], heads[:kept], nil
}

// unwrapPath drops the "op path:" of an *os.PathError, which the
// messages name themselves.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parallel runs fn(i) for i in [0, n) on GOMAXPROCS goroutines.
func parallel(n int, fn func(i int)) { parallelN(runtime.GOMAXPROCS(0), n, fn) }

// parallelN runs fn(i) for i in [0, n) on at most workers goroutines.
func parallelN(workers, n int, fn func(i int)) {
	workers = min(workers, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}
