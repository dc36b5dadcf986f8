package backprop_test

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spf13/viper"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/model"
)

// The classic hand-worked CNN example, every forward value and every
// backward delta written out below and checked against the engine, in
// float64 and float32, and against PyTorch (testdata/golden/worked_example.json,
// the same network, weights, input and target as a golden case of
// scripts/golden/gen.py).
//
// The network, one sample:
//
//	layer 0  conv2d {filters: 1, kernel: 2}    (1, 5, 5) -> (1, 4, 4)
//	layer 1  maxpool2d {size: 2}                (1, 4, 4) -> (1, 2, 2)
//	layer 2  sigmoid
//	layer 3  flatten                            (1, 2, 2) -> (4)
//	layer 4  dense {units: 2}                   (4) -> (2)
//	layer 5  sigmoid
//	loss     half_sse: L = 1/2 sum_k (y_k - t_k)^2, so dL/dy = y - t
//
// Weights (chosen), input x and target t:
//
//	kernel K = | 1   -1 |   bias b = -1/2        x = | 0 1 3 3 3 |
//	           | 1/2  0 |                            | 0 3 2 3 3 |
//	                                                 | 3 2 1 1 3 |
//	dense  W = |  1   -1  1/2   1 |  b = |  0   |    | 2 0 0 1 3 |
//	           | -1/2  1   1   -2 |      | -1/2 |    | 1 2 0 1 0 |
//
//	target t = (1, 0)
//
// Forward.
//
// Convolution (cross-correlation, as every framework computes it), 4x4:
//
//	c[i][j] = x[i][j] - x[i][j+1] + 1/2 x[i+1][j] - 1/2
//
//	c00 = 0 - 1 + 0   - 1/2 = -3/2    c01 = 1 - 3 + 3/2 - 1/2 = -1
//	c02 = 3 - 3 + 1   - 1/2 =  1/2    c03 = 3 - 3 + 3/2 - 1/2 =  1
//	c10 = 0 - 3 + 3/2 - 1/2 = -2      c11 = 3 - 2 + 1   - 1/2 =  3/2
//	c12 = 2 - 3 + 1/2 - 1/2 = -1      c13 = 3 - 3 + 1/2 - 1/2 =  0
//	c20 = 3 - 2 + 1   - 1/2 =  3/2    c21 = 2 - 1 + 0   - 1/2 =  1/2
//	c22 = 1 - 1 + 0   - 1/2 = -1/2    c23 = 1 - 3 + 1/2 - 1/2 = -2
//	c30 = 2 - 0 + 1/2 - 1/2 =  2      c31 = 0 - 0 + 1   - 1/2 =  1/2
//	c32 = 0 - 1 + 0   - 1/2 = -3/2    c33 = 1 - 3 + 1/2 - 1/2 = -2
//
//	c = | -3/2  -1    1/2   1  |
//	    | -2    3/2  -1     0  |
//	    |  3/2  1/2  -1/2  -2  |
//	    |  2    1/2  -3/2  -2  |
//
// Max pooling 2x2, stride 2; each window's maximum is unique, and the
// winner sits at a different corner of each window:
//
//	top-left     {-3/2, -1, -2, 3/2}      -> p1 = 3/2  at (1,1) (bottom-right)
//	top-right    {1/2, 1, -1, 0}          -> p2 = 1    at (0,3) (top-right)
//	bottom-left  {3/2, 1/2, 2, 1/2}       -> p3 = 2    at (3,0) (bottom-left)
//	bottom-right {-1/2, -2, -3/2, -2}     -> p4 = -1/2 at (2,2) (top-left)
//
// Sigmoid s = 1/(1 + e^-p), then flatten (row-major: p1, p2, p3, p4):
//
//	s1 = s(3/2)  = 0.81757447619364366
//	s2 = s(1)    = 0.73105857863000488
//	s3 = s(2)    = 0.88079707797788244
//	s4 = s(-1/2) = 0.37754066879814544
//
// Dense z = W s + b, then the output sigmoid y = s(z):
//
//	z1 =      s1 - s2 + 1/2 s3 +   s4        =  0.90445510535072544
//	z2 = -1/2 s1 + s2 +     s3 - 2 s4 - 1/2  = -0.052012919085225377
//	y1 = s(z1) = 0.71186416702729807
//	y2 = s(z2) = 0.48699970095303575
//	L  = 1/2 ((y1 - 1)^2 + y2^2) = 0.16009548348560951
//
// Backward.
//
// Output deltas, delta_k = (y_k - t_k) y_k (1 - y_k) (the loss gradient
// times the sigmoid's derivative; the gradient w.r.t. z, Dx[5]):
//
//	y - t    = (-0.28813583297270193, 0.48699970095303575)       (dL/dy)
//	y(1 - y) = ( 0.20511357472982914, 0.24983099222468950)
//	delta1   = -0.059100570708787865
//	delta2   =  0.12166761850222399
//
// Dense gradients: dW[k][j] = delta_k s_j, db[k] = delta_k; the gradient
// w.r.t. its input (Dx[4], passed unchanged through flatten as Dx[3]) is
// e_j = sum_k delta_k W[k][j]:
//
//	e1 =      delta1 - 1/2 delta2 = -0.11993437995989986
//	e2 =     -delta1 +     delta2 =  0.18076818921101185
//	e3 = 1/2 delta1 +      delta2 =  0.092117333147830053
//	e4 =      delta1 -   2 delta2 = -0.30243580771323584
//
// Hidden deltas (Dx[2], the gradient w.r.t. the pooled values),
// delta_j = (sum_k delta_k w_kj) s_j (1 - s_j) = e_j s_j (1 - s_j):
//
//	s(1 - s) = (0.14914645207033286, 0.19661193324148185, 0.10499358540350652, 0.23500371220159449)
//	d1 = -0.017887787252274294
//	d2 =  0.035541183149339022
//	d3 =  0.0096717290849999565
//	d4 = -0.071073537515298045
//
// Max pooling routes each delta to its window's winner, zeros elsewhere
// (Dx[1], the gradient w.r.t. the conv output, the conv deltas D):
//
//	D = | 0   0   0   d2 |
//	    | 0   d1  0   0  |
//	    | 0   0   d4  0  |
//	    | d3  0   0   0  |
//
// Kernel gradient: the correlation of the input with D,
// dK[u][v] = sum_ij x[i+u][j+v] D[i][j], so each winner contributes its
// delta times the 2x2 input patch at its position:
//
//	d1 at (1,1): | 3 2 |   d2 at (0,3): | 3 3 |   d3 at (3,0): | 2 0 |   d4 at (2,2): | 1 1 |
//	             | 2 1 |                | 3 3 |                | 1 2 |                | 0 1 |
//
//	dK00 = 3 d1 + 3 d2 + 2 d3 + d4 =  0.0012301083458960532
//	dK01 = 2 d1 + 3 d2 + 0 d3 + d4 = -0.00022556257182956625
//	dK10 = 2 d1 + 3 d2 + 1 d3 + 0  =  0.080519704028468435
//	dK11 = 1 d1 + 3 d2 + 2 d3 + d4 =  0.037005682850444640
//	db   = d1 + d2 + d3 + d4       = -0.043748412533233360
//
// Input gradient (Dx[0]), dx[a][b] = sum_ij D[i][j] K[a-i][b-j]: each
// winner (i,j) spreads its delta times K onto x[i..i+1][j..j+1] (d at
// (i,j), -d at (i,j+1), d/2 at (i+1,j), 0 at (i+1,j+1)); here the four
// footprints do not overlap:
//
//	dx = | 0      0     0      d2    -d2 |
//	     | 0      d1   -d1     d2/2   0  |
//	     | 0      d1/2  d4    -d4     0  |
//	     | d3    -d3    d4/2   0      0  |
//	     | d3/2   0     0      0      0  |
//
// The decimals were computed with 40-digit decimal arithmetic, not with
// nettrain or torch.

const workedYAML = `data: {train: "mnist:train"}
model:
  input: [1, 5, 5]
  layers:
    - conv2d: {filters: 1, kernel: 2}
    - maxpool2d: {size: 2}
    - sigmoid
    - flatten
    - dense: {units: 2}
    - sigmoid
loss: half_sse
`

var (
	workedX = []float64{
		0, 1, 3, 3, 3,
		0, 3, 2, 3, 3,
		3, 2, 1, 1, 3,
		2, 0, 0, 1, 3,
		1, 2, 0, 1, 0,
	}
	workedT      = []float64{1, 0}
	workedParams = map[string][]float64{
		"0.weight": {1, -1, 0.5, 0},
		"0.bias":   {-0.5},
		"4.weight": {1, -1, 0.5, 1, -0.5, 1, 1, -2},
		"4.bias":   {0, -0.5},
	}

	// Forward.
	workedConv = []float64{
		-1.5, -1, 0.5, 1,
		-2, 1.5, -1, 0,
		1.5, 0.5, -0.5, -2,
		2, 0.5, -1.5, -2,
	}
	workedPooled = []float64{1.5, 1, 2, -0.5}
	workedS      = []float64{0.81757447619364366, 0.73105857863000488, 0.88079707797788244, 0.37754066879814544}
	workedZ      = []float64{0.90445510535072544, -0.052012919085225377}
	workedY      = []float64{0.71186416702729807, 0.48699970095303575}
	workedLoss   = 0.16009548348560951

	// Backward.
	workedDy     = []float64{-0.28813583297270193, 0.48699970095303575} // y - t
	workedDeltaK = []float64{-0.059100570708787865, 0.12166761850222399}
	workedE      = []float64{-0.11993437995989986, 0.18076818921101185, 0.092117333147830053, -0.30243580771323584}
	workedDeltaJ = []float64{-0.017887787252274294, 0.035541183149339022, 0.0096717290849999565, -0.071073537515298045}
	workedGrads  = map[string][]float64{
		"0.weight": {0.0012301083458960532, -0.00022556257182956625, 0.080519704028468435, 0.037005682850444640},
		"0.bias":   {-0.043748412533233360},
		// delta_k s_j
		"4.weight": {
			-0.048319118139982638, -0.043205979218588556, -0.052055609987125580, -0.022312868991747855,
			0.099472339466683842, 0.088946156247533550, 0.10716448286128663, 0.045934474060407257,
		},
		"4.bias": {-0.059100570708787865, 0.12166761850222399},
	}
)

// workedRouted is D, the hidden deltas at the pooling winners.
func workedRouted() []float64 {
	d1, d2, d3, d4 := workedDeltaJ[0], workedDeltaJ[1], workedDeltaJ[2], workedDeltaJ[3]
	return []float64{
		0, 0, 0, d2,
		0, d1, 0, 0,
		0, 0, d4, 0,
		d3, 0, 0, 0,
	}
}

// workedDx is the input gradient, K spread at each winner.
func workedDx() []float64 {
	d1, d2, d3, d4 := workedDeltaJ[0], workedDeltaJ[1], workedDeltaJ[2], workedDeltaJ[3]
	return []float64{
		0, 0, 0, d2, -d2,
		0, d1, -d1, d2 / 2, 0,
		0, d1 / 2, d4, -d4, 0,
		d3, -d3, d4 / 2, 0, 0,
		d3 / 2, 0, 0, 0, 0,
	}
}

// TestWorkedExampleHand checks the hand values themselves: the decimals
// against the formulas that define them (in float64), so a typo in a
// constant cannot hide behind a matching engine.
func TestWorkedExampleHand(t *testing.T) {
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	W := workedParams["4.weight"]
	var want []float64
	for _, p := range workedPooled {
		want = append(want, sig(p))
	}
	near(t, "s", workedS, want, 1e-15)
	z := []float64{
		W[0]*workedS[0] + W[1]*workedS[1] + W[2]*workedS[2] + W[3]*workedS[3] + workedParams["4.bias"][0],
		W[4]*workedS[0] + W[5]*workedS[1] + W[6]*workedS[2] + W[7]*workedS[3] + workedParams["4.bias"][1],
	}
	near(t, "z", workedZ, z, 1e-15)
	near(t, "y", workedY, []float64{sig(z[0]), sig(z[1])}, 1e-15)
	y := workedY
	near(t, "loss", []float64{workedLoss}, []float64{0.5 * ((y[0]-1)*(y[0]-1) + y[1]*y[1])}, 1e-15)
	near(t, "y - t", workedDy, []float64{y[0] - 1, y[1]}, 1e-15)
	dk := workedDeltaK
	near(t, "delta_k", dk, []float64{(y[0] - 1) * y[0] * (1 - y[0]), y[1] * y[1] * (1 - y[1])}, 1e-15)
	near(t, "e", workedE, []float64{dk[0] - dk[1]/2, -dk[0] + dk[1], dk[0]/2 + dk[1], dk[0] - 2*dk[1]}, 1e-15)
	s := workedS
	var dj []float64
	for j, e := range workedE {
		dj = append(dj, e*s[j]*(1-s[j]))
	}
	near(t, "delta_j", workedDeltaJ, dj, 1e-15)
	d1, d2, d3, d4 := dj[0], dj[1], dj[2], dj[3]
	near(t, "dK", workedGrads["0.weight"], []float64{
		3*d1 + 3*d2 + 2*d3 + d4, 2*d1 + 3*d2 + d4, 2*d1 + 3*d2 + d3, d1 + 3*d2 + 2*d3 + d4}, 1e-15)
	near(t, "db", workedGrads["0.bias"], []float64{d1 + d2 + d3 + d4}, 1e-15)
	var dW []float64
	for _, d := range dk {
		for _, v := range s {
			dW = append(dW, d*v)
		}
	}
	near(t, "dW", workedGrads["4.weight"], dW, 1e-15)
	near(t, "db (dense)", workedGrads["4.bias"], dk, 0)
}

func TestWorkedExample(t *testing.T) {
	t.Run("float64", func(t *testing.T) { runWorked[float64](t, 1e-14) })
	t.Run("float32", func(t *testing.T) { runWorked[float32](t, 1e-6) })
}

// runWorked runs the example through the engine in precision T; every
// value must be within tol of the hand value (absolute; all are at most
// 2.5 in magnitude). The conv and pooling outputs and the zeros of the
// routed deltas are exact.
func runWorked[T backprop.Float](t *testing.T, tol float64) {
	cfg, err := model.Parse("worked_example.yaml", []byte(workedYAML), nil, viper.New())
	if err != nil {
		t.Fatal(err)
	}
	g := mustGraph(t, cfg)
	net := backprop.NewNetwork[T](g.Input, g.Specs, g.Loss, 1)
	if len(net.Params) != len(workedParams) {
		t.Fatalf("network has %d parameters, want %d", len(net.Params), len(workedParams))
	}
	for name, w := range workedParams {
		p := net.Param(name)
		if p == nil || len(p.W) != len(w) {
			t.Fatalf("parameter %s: %v", name, p)
		}
		copy(p.W, convert[T](w))
	}

	ctx := &backprop.Ctx{}
	y := net.Forward(ctx, convert[T](workedX), 1)
	near(t, "layer 0 (conv2d) output", net.Outs[0], workedConv, 0)
	near(t, "layer 1 (maxpool2d) output", net.Outs[1], workedPooled, 0)
	near(t, "layer 2 (sigmoid) output", net.Outs[2], workedS, tol)
	near(t, "layer 3 (flatten) output", net.Outs[3], workedS, tol)
	near(t, "layer 4 (dense) output", net.Outs[4], workedZ, tol)
	near(t, "layer 5 (sigmoid) output", net.Outs[5], workedY, tol)
	near(t, "network output", y, workedY, tol)
	loss, _, _ := net.Loss.Forward(y, backprop.Target[T]{Values: convert[T](workedT)}, 1)
	near(t, "loss", []float64{loss}, []float64{workedLoss}, tol)

	net.ZeroGrad()
	dy := net.Loss.Grad(1)
	near(t, "dL/dy", dy, workedDy, tol)
	dx := net.Backward(ctx, dy, 1, true)
	near(t, "Dx[5] (output deltas)", net.Dx[5], workedDeltaK, tol)
	near(t, "Dx[4] (dense input gradient)", net.Dx[4], workedE, tol)
	near(t, "Dx[3] (flatten input gradient)", net.Dx[3], workedE, tol)
	near(t, "Dx[2] (hidden deltas)", net.Dx[2], workedDeltaJ, tol)
	near(t, "Dx[1] (deltas routed to the pooling winners)", net.Dx[1], workedRouted(), tol)
	for i, v := range workedRouted() {
		if v == 0 && net.Dx[1][i] != 0 {
			t.Errorf("Dx[1][%d] = %g, want exactly 0 (not a pooling winner)", i, net.Dx[1][i])
		}
	}
	near(t, "Dx[0] (input gradient)", net.Dx[0], workedDx(), tol)
	near(t, "returned dL/dx", dx, workedDx(), tol)
	for _, p := range net.Params {
		near(t, "gradient "+p.Name, p.G, workedGrads[p.Name], tol)
	}
}

// TestWorkedExampleTorch checks that PyTorch agrees with the hand values:
// the golden case worked_example has the same network, weights, input and
// target (exactly), and torch's layer outputs, loss, input gradient and
// parameter gradients are the ones derived above.
func TestWorkedExampleTorch(t *testing.T) {
	c := loadCase(t, filepath.Join("testdata", "golden", "worked_example.json"))
	const tol = 1e-14

	cfg, err := model.Parse("worked_example.yaml", []byte(workedYAML), nil, viper.New())
	if err != nil {
		t.Fatal(err)
	}
	golden, err := parseConfig(c, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := fmt.Sprint(mustGraph(t, cfg)), fmt.Sprint(mustGraph(t, golden)); a != b {
		t.Fatalf("the golden case is another network:\n%s\nwant\n%s", b, a)
	}
	if c.Batch != 1 || c.Values == nil || !slices.Equal(c.Values.Data, workedT) || !slices.Equal(c.X.Data, workedX) {
		t.Fatalf("golden case has batch %d, x %v, targets %v", c.Batch, c.X.Data, c.Values)
	}
	if len(c.Params) != len(workedParams) {
		t.Fatalf("torch has %d parameters, want %d", len(c.Params), len(workedParams))
	}
	for _, p := range c.Params {
		if !slices.Equal(p.Data, workedParams[p.Name]) {
			t.Errorf("torch parameter %s = %v, want %v", p.Name, p.Data, workedParams[p.Name])
		}
	}

	want := [][]float64{workedConv, workedPooled, workedS, workedS, workedZ, workedY}
	if len(c.Outs) != len(want) {
		t.Fatalf("torch has %d layer outputs, want %d", len(c.Outs), len(want))
	}
	for i, o := range c.Outs {
		near(t, fmt.Sprintf("torch layer %d output", i), o.Data, want[i], tol)
	}
	near(t, "torch loss", []float64{c.LossValue}, []float64{workedLoss}, tol)
	near(t, "torch dL/dx", c.Dx.Data, workedDx(), tol)
	if len(c.Grads) != len(workedGrads) {
		t.Fatalf("torch has %d gradients, want %d", len(c.Grads), len(workedGrads))
	}
	for _, g := range c.Grads {
		near(t, "torch gradient "+g.Name, g.Data, workedGrads[g.Name], tol)
	}
}

// near fails the test when any |got_i - want_i| > tol.
func near[T backprop.Float](t *testing.T, name string, got []T, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	for i, w := range want {
		if d := math.Abs(float64(got[i]) - w); !(d <= tol) {
			t.Errorf("%s[%d] = %.17g, want %.17g (off by %.3g > %g)", name, i, got[i], w, d, tol)
		}
	}
}
