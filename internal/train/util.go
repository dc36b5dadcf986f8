package train

import (
	"math"
	"strconv"
)

var inf = math.Inf(1)

func itoa(i int) string { return strconv.Itoa(i) }
