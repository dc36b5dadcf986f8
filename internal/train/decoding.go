package train

import (
	"fmt"
	"strings"

	"github.com/nettrain/nettrain/internal/checkpoint"
)

// ImageDecodingChanged tells why the data's fingerprints differ from a
// checkpoint's (trained) when nettrain's image decoding changed since it
// was trained (checkpoint.DecoderChanged) and some of the images read
// decode otherwise since (data.ImageDecoding.ChangedSince), e.g.
// "data.train (shapes/train, 600 images): 600 colour images made
// grayscale with PIL's rounding of the luminance". That is all that differs if the files
// did not change: the pixels the checkpoint was trained on cannot be read
// again to tell (nettrain keeps one decoder). "" when the fingerprints
// agree, differ otherwise too, or no image decodes otherwise, so that
// checkpoint.DataDiffers has its say.
func (d *Data[T]) ImageDecodingChanged(trained []checkpoint.DataFingerprint) string {
	var parts []string
	for _, c := range checkpoint.DecoderChanged(trained, d.Fingerprints) {
		dec := d.decoding[c.Key]
		if dec == nil {
			return ""
		}
		what := dec.ChangedSince(c.Was)
		if what == "" {
			return "" // the files changed
		}
		parts = append(parts, fmt.Sprintf("%s (%s, %d images): %s", c.Key, c.Source, dec.Images, what))
	}
	return strings.Join(parts, "; ")
}

// ImageDecodingError is the error for a checkpoint trained before the
// image decoding changed (what: ImageDecodingChanged), by what cannot be
// done (consequence) and what to do instead (do).
func ImageDecodingError(ckpt, what, consequence, do string) error {
	return fmt.Errorf("%s was trained before nettrain's image decoding changed to match PIL, which reads other pixels from these image files: %s; %s: %s",
		ckpt, what, consequence, do)
}
