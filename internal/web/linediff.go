package web

import "strings"

// The schema pages compare two versions as a line diff of their
// pretty-printed texts, the way a code review shows a change.

// maxDiffCells bounds a line diff's work (its table of the lines that
// differ, one side by the other): past it the texts are shown as one
// block removed and one added.
const maxDiffCells = 4 << 20

// diffContext is how many unchanged lines a diff keeps around a change;
// longer runs between changes fold into one "skip" line.
const diffContext = 3

// diffLine is one line of a diff: Op is " " (in both), "-" (only in the
// old text) or "+" (only in the new one), or "…" for a fold of Skipped
// unchanged lines. Old and New are its 1-based line numbers, 0 on the
// side it is not on.
type diffLine struct {
	Op       string
	Text     string
	Old, New int
	Skipped  int
}

// lineDiff returns the lines of a and b as a diff, unchanged runs folded
// beyond diffContext lines of a change, and how many lines were removed
// and added.
func lineDiff(a, b string) (lines []diffLine, removed, added int) {
	al, bl := splitLines(a), splitLines(b)
	var all []diffLine
	for _, op := range diffOps(al, bl) {
		all = append(all, op)
		switch op.Op {
		case "-":
			removed++
		case "+":
			added++
		}
	}
	if removed+added == 0 {
		return all, 0, 0 // the same text: shown whole
	}
	return fold(all), removed, added
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// diffOps aligns a and b on a longest common subsequence of lines, after
// taking off their common head and tail.
func diffOps(a, b []string) []diffLine {
	var out []diffLine
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		out = append(out, diffLine{Op: " ", Text: a[head], Old: head + 1, New: head + 1})
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	am, bm := a[head:len(a)-tail], b[head:len(b)-tail]
	out = append(out, middle(am, bm, head)...)
	for i := range tail {
		ai, bi := len(a)-tail+i, len(b)-tail+i
		out = append(out, diffLine{Op: " ", Text: a[ai], Old: ai + 1, New: bi + 1})
	}
	return out
}

// middle diffs the differing middles of two texts, whose first lines are
// line off+1 of each.
func middle(a, b []string, off int) []diffLine {
	n, m := len(a), len(b)
	var out []diffLine
	if n*m > maxDiffCells {
		for i, l := range a {
			out = append(out, diffLine{Op: "-", Text: l, Old: off + i + 1})
		}
		for j, l := range b {
			out = append(out, diffLine{Op: "+", Text: l, New: off + j + 1})
		}
		return out
	}
	// lcs[i][j] is the length of a longest common subsequence of a[i:] and
	// b[j:], row by row in one slice.
	w := m + 1
	lcs := make([]int32, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out = append(out, diffLine{Op: " ", Text: a[i], Old: off + i + 1, New: off + j + 1})
			i++
			j++
		case i < n && (j == m || lcs[(i+1)*w+j] >= lcs[i*w+j+1]):
			// Removals before additions, as a unified diff shows them.
			out = append(out, diffLine{Op: "-", Text: a[i], Old: off + i + 1})
			i++
		default:
			out = append(out, diffLine{Op: "+", Text: b[j], New: off + j + 1})
			j++
		}
	}
	return out
}

// fold replaces every run of unchanged lines farther than diffContext from
// a change with one "…" line saying how many it hides.
func fold(lines []diffLine) []diffLine {
	near := make([]bool, len(lines))
	for i, l := range lines {
		if l.Op == " " {
			continue
		}
		for k := max(0, i-diffContext); k <= min(len(lines)-1, i+diffContext); k++ {
			near[k] = true
		}
	}
	var out []diffLine
	for i := 0; i < len(lines); {
		if near[i] || lines[i].Op != " " {
			out = append(out, lines[i])
			i++
			continue
		}
		j := i
		for j < len(lines) && !near[j] {
			j++
		}
		if j-i == 1 {
			out = append(out, lines[i]) // a fold of one line hides nothing
		} else {
			out = append(out, diffLine{Op: "…", Skipped: j - i})
		}
		i = j
	}
	return out
}
