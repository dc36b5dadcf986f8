package testutil

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// ProgressiveJPEG is a progressive JPEG (SOF2) of w x h pixels (at most
// 65535 a side) whose components have the sampling factors hv (0x11,
// 0x22, ...: one for gray, three for YCbCr, four for CMYK, with an Adobe
// segment), holding one scan of DC coefficients, all zero: a mid-gray
// image that image/jpeg decodes. Truncated, the scan holds 64 bytes and
// the file ends there, as in the 190-byte JPEG claiming 5792x5792 pixels
// that once crashed nettrain predict out of memory: image/jpeg allocates
// the image and its coefficients before it finds the data missing.
func ProgressiveJPEG(w, h int, hv []byte, truncated bool) []byte {
	var b bytes.Buffer
	segment := func(marker byte, data []byte) {
		b.Write([]byte{0xff, marker})
		binary.Write(&b, binary.BigEndian, uint16(len(data)+2))
		b.Write(data)
	}
	b.Write([]byte{0xff, 0xd8})
	if len(hv) == 4 {
		segment(0xee, []byte("Adobe\x00\x64\x00\x00\x00\x00\x00")) // APP14, transform 0: CMYK
	}
	segment(0xdb, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)) // DQT 0: all ones
	sof := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), byte(len(hv))}
	sos := []byte{byte(len(hv))}
	perMCU := 0
	for i, f := range hv {
		sof = append(sof, byte(i+1), f, 0)
		sos = append(sos, byte(i+1), 0)
		perMCU += int(f>>4) * int(f&0x0f)
	}
	segment(0xc2, sof)
	// DHT: DC table 0 with one code, "0", for the difference 0.
	segment(0xc4, append([]byte{0x00, 1}, make([]byte, 16)...))
	segment(0xda, append(sos, 0, 0, 0)) // Ss 0, Se 0, Ah/Al 0: DC, first scan
	if truncated {
		b.Write(make([]byte, 64))
		return b.Bytes()
	}
	h0, v0 := int(hv[0]>>4), int(hv[0]&0x0f)
	if len(hv) == 1 {
		h0, v0, perMCU = 1, 1, 1
	}
	mcus := ((w + 8*h0 - 1) / (8 * h0)) * ((h + 8*v0 - 1) / (8 * v0))
	b.Write(make([]byte, (mcus*perMCU+7)/8+8)) // a bit a block, "0"
	b.Write([]byte{0xff, 0xd9})
	return b.Bytes()
}

// PNG is a PNG of w x h pixels of bit depth and colour type (0 gray, 2
// RGB, 3 palette, 4 gray and alpha, 6 RGBA), Adam7-interlaced or not,
// with a tRNS chunk (a transparent colour) when trns, and its pixels all
// zero, compressed as they are written. Truncated, its image data chunk
// claims 1000 bytes and the file ends after 10 of them.
func PNG(w, h int, depth, colourType byte, interlaced, trns, truncated bool) []byte {
	var b bytes.Buffer
	chunk := func(kind string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(kind), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	b.WriteString("\x89PNG\r\n\x1a\n")
	il := byte(0)
	if interlaced {
		il = 1
	}
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	chunk("IHDR", append(ihdr, depth, colourType, 0, 0, il))
	if colourType == 3 {
		chunk("PLTE", make([]byte, 3*(1<<min(depth, 8))))
	}
	if trns {
		switch colourType {
		case 0:
			chunk("tRNS", []byte{0, 1})
		case 2:
			chunk("tRNS", []byte{0, 1, 0, 1, 0, 1})
		case 3:
			chunk("tRNS", []byte{0})
		}
	}
	if truncated {
		binary.Write(&b, binary.BigEndian, uint32(1000))
		b.WriteString("IDAT")
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(make([]byte, 100))
		zw.Close()
		b.Write(z.Bytes()[:10])
		return b.Bytes()
	}
	samples := map[byte]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colourType]
	rowBytes := func(pw int) int { return 1 + (int(depth)*samples*pw+7)/8 }
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	passes := [][4]int{{0, 0, 1, 1}}
	if interlaced {
		passes = [][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	}
	for _, p := range passes {
		pw, ph := (w-p[0]+p[2]-1)/p[2], (h-p[1]+p[3]-1)/p[3]
		if pw == 0 || ph == 0 {
			continue
		}
		row := make([]byte, rowBytes(pw))
		for range ph {
			zw.Write(row)
		}
	}
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}
