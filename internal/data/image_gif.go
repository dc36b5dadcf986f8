package data

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"io"
)

// gifStoredColour gives the transparent palette entry of a GIF's first
// frame, decoded by image/gif into img, back the colour the file stores
// for it, with alpha 0, as PIL's convert("RGB") reads it: image/gif
// replaces that entry by transparent black (color.RGBA{}), which rgbAt
// would read as black. r reads the file again from its start; only its
// header, extensions and colour tables up to the first image descriptor
// are read. Every other entry image/gif makes opaque, so an entry of
// alpha 0 is the transparent one; one past the file's table (an index out
// of range, which image/gif adds) stays black.
func gifStoredColour(img image.Image, r io.Reader) (image.Image, error) {
	m, ok := img.(*image.Paletted)
	if !ok {
		return img, nil
	}
	table, err := gifFirstColourTable(bufio.NewReader(r))
	if err != nil {
		return nil, err
	}
	for i, c := range m.Palette {
		if c == color.Color(color.RGBA{}) && 3*i+2 < len(table) {
			m.Palette[i] = color.NRGBA{table[3*i], table[3*i+1], table[3*i+2], 0}
		}
	}
	return m, nil
}

// gifFirstColourTable reads a GIF up to its first image descriptor and
// returns the colour table of that image, 3 bytes (R, G, B) an entry: its
// local table, else the global one (nil if neither). The block structure
// is GIF89a's (https://www.w3.org/Graphics/GIF/spec-gif89a.txt): a header
// and logical screen descriptor of 13 bytes with the global table's flag
// and size, then extensions (0x21, a label, data sub-blocks up to an empty
// one) and image descriptors (0x2C and 9 bytes with the local table's).
func gifFirstColourTable(r *bufio.Reader) ([]byte, error) {
	var head [13]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	table, err := gifColourTable(r, head[10])
	if err != nil {
		return nil, err
	}
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		switch b {
		case 0x21:
			if _, err := r.ReadByte(); err != nil { // the label
				return nil, err
			}
			for {
				n, err := r.ReadByte()
				if err != nil {
					return nil, err
				}
				if n == 0 {
					break
				}
				if _, err := r.Discard(int(n)); err != nil {
					return nil, err
				}
			}
		case 0x2C:
			var d [9]byte
			if _, err := io.ReadFull(r, d[:]); err != nil {
				return nil, err
			}
			if d[8]&0x80 != 0 {
				return gifColourTable(r, d[8])
			}
			return table, nil
		default:
			return nil, fmt.Errorf("gif: unknown block type 0x%02x before the first image", b)
		}
	}
}

// gifColourTable reads the colour table that flags (of a logical screen
// or image descriptor) announces, if any.
func gifColourTable(r io.Reader, flags byte) ([]byte, error) {
	if flags&0x80 == 0 {
		return nil, nil
	}
	t := make([]byte, 3<<(flags&7+1))
	if _, err := io.ReadFull(r, t); err != nil {
		return nil, err
	}
	return t, nil
}
