package jsonschema

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	jsv "github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// The validator library's checks for these formats are lenient where the
// RFCs are not (a URI with a space, an IPv4 address with a "+", a hostname
// with a trailing dot or a malformed A-label are accepted) or strict where
// they are not (URI templates with operators are rejected). A gateway that
// asserts formats must follow the RFCs both ways, so these replace them; the
// official test suite's optional/format tests pin the behaviour
// (conformance_test.go).
var formatOverrides = []*jsv.Format{
	{Name: "uri", Validate: stringFormat(func(s string) error { return checkURI(s, false, true) })},
	{Name: "uri-reference", Validate: stringFormat(func(s string) error { return checkURI(s, false, false) })},
	{Name: "iri", Validate: stringFormat(func(s string) error { return checkURI(s, true, true) })},
	{Name: "iri-reference", Validate: stringFormat(func(s string) error { return checkURI(s, true, false) })},
	{Name: "uri-template", Validate: stringFormat(checkURITemplate)},
	{Name: "hostname", Validate: stringFormat(checkHostname)},
	{Name: "email", Validate: stringFormat(checkEmail)},
	{Name: "ipv4", Validate: stringFormat(checkIPv4)},
	{Name: "duration", Validate: stringFormat(checkDuration)},
	// These follow the same RFCs as the library's checks (stricter only
	// where it is lax: it takes "+1:00:00Z" for a time); they are replaced
	// because events carry them in nearly every record and the library's
	// versions allocate.
	{Name: "date-time", Validate: stringFormat(checkDateTime)},
	{Name: "date", Validate: stringFormat(checkDate)},
	{Name: "time", Validate: stringFormat(checkTime)},
	{Name: "uuid", Validate: stringFormat(checkUUID)},
}

// stringFormat adapts a check of strings: formats apply to strings only.
func stringFormat(check func(string) error) func(any) error {
	return func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		return check(s)
	}
}

// checkURI checks s against RFC 3986 (URI, URI-reference) or, with iri,
// RFC 3987 (IRI, IRI-reference, which also allow non-ASCII characters).
// With absolute, s must have a scheme.
func checkURI(s string, iri, absolute bool) error {
	rest, hasScheme := s, false
	if i := strings.IndexAny(s, ":/?#"); i > 0 && s[i] == ':' && isScheme(s[:i]) {
		rest, hasScheme = s[i+1:], true
	}
	if absolute && !hasScheme {
		return errors.New("no scheme")
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		if err := checkURIChars(rest[i+1:], ":@/?", iri, false); err != nil {
			return fmt.Errorf("fragment: %w", err)
		}
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		if err := checkURIChars(rest[i+1:], ":@/?", iri, true); err != nil {
			return fmt.Errorf("query: %w", err)
		}
		rest = rest[:i]
	}
	path := rest
	if auth, ok := strings.CutPrefix(rest, "//"); ok {
		path = ""
		if i := strings.IndexByte(auth, '/'); i >= 0 {
			auth, path = auth[:i], auth[i:]
		}
		if err := checkAuthority(auth, iri); err != nil {
			return err
		}
	} else if !hasScheme {
		// path-noscheme: a colon in the first segment would read as a scheme.
		first, _, _ := strings.Cut(path, "/")
		if strings.Contains(first, ":") {
			return errors.New("colon in the first path segment of a relative reference")
		}
	}
	if err := checkURIChars(path, ":@/", iri, false); err != nil {
		return fmt.Errorf("path: %w", err)
	}
	return nil
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && (i == 0 || !isDigit(c) && c != '+' && c != '-' && c != '.') {
			return false
		}
	}
	return s != ""
}

func checkAuthority(auth string, iri bool) error {
	hostport := auth
	if i := strings.IndexByte(auth, '@'); i >= 0 {
		if err := checkURIChars(auth[:i], ":", iri, false); err != nil {
			return fmt.Errorf("userinfo: %w", err)
		}
		hostport = auth[i+1:]
	}
	host, port := hostport, ""
	if lit, ok := strings.CutPrefix(hostport, "["); ok {
		end := strings.IndexByte(lit, ']')
		if end < 0 {
			return errors.New("unterminated IP literal")
		}
		after := lit[end+1:]
		if after != "" {
			if after[0] != ':' {
				return fmt.Errorf("unexpected %q after IP literal", after)
			}
			port = after[1:]
		}
		if err := checkIPLiteral(lit[:end]); err != nil {
			return err
		}
	} else {
		if i := strings.IndexByte(hostport, ':'); i >= 0 {
			host, port = hostport[:i], hostport[i+1:]
		}
		if err := checkURIChars(host, "", iri, false); err != nil {
			return fmt.Errorf("host: %w", err)
		}
	}
	for i := 0; i < len(port); i++ {
		if !isDigit(port[i]) {
			return fmt.Errorf("port %q is not a number", port)
		}
	}
	return nil
}

func checkIPLiteral(lit string) error {
	if len(lit) > 0 && (lit[0] == 'v' || lit[0] == 'V') {
		// IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
		ver, addr, ok := strings.Cut(lit[1:], ".")
		if !ok || ver == "" || addr == "" || strings.Trim(ver, "0123456789abcdefABCDEF") != "" {
			return fmt.Errorf("invalid IPvFuture literal %q", lit)
		}
		for i := 0; i < len(addr); i++ {
			if c := addr[i]; !isUnreserved(c) && !isSubDelim(c) && c != ':' {
				return fmt.Errorf("invalid IPvFuture literal %q", lit)
			}
		}
		return nil
	}
	return checkIPv6(lit)
}

func checkIPv6(s string) error {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return err
	case !strings.Contains(s, ":"):
		return fmt.Errorf("%q is not an IPv6 address", s)
	case a.Zone() != "":
		return fmt.Errorf("zone in IPv6 address %q", s)
	}
	return nil
}

// checkURIChars checks that s has only unreserved characters, sub-delims,
// percent-encoded octets and the bytes in extra; with iri also the Unicode
// characters of RFC 3987's ucschar, and with private its iprivate.
func checkURIChars(s, extra string, iri, private bool) error {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return errors.New("invalid percent-encoding")
			}
			i += 3
		case c < utf8.RuneSelf:
			if !isUnreserved(c) && !isSubDelim(c) && strings.IndexByte(extra, c) < 0 {
				return fmt.Errorf("invalid character %q", c)
			}
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !iri || !isUcschar(r) && (!private || !isIprivate(r)) {
				return fmt.Errorf("invalid character %q", r)
			}
			i += size
		}
	}
	return nil
}

func isAlpha(c byte) bool      { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isHex(c byte) bool        { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isUnreserved(c byte) bool { return isAlpha(c) || isDigit(c) || strings.IndexByte("-._~", c) >= 0 }
func isSubDelim(c byte) bool   { return strings.IndexByte("!$&'()*+,;=", c) >= 0 }

// isUcschar reports whether r is in RFC 3987's ucschar.
func isUcschar(r rune) bool {
	switch {
	case 0xa0 <= r && r <= 0xd7ff, 0xf900 <= r && r <= 0xfdcf, 0xfdf0 <= r && r <= 0xffef:
		return true
	case 0x10000 <= r && r <= 0xefffd:
		return r&0xffff <= 0xfffd // not the noncharacters U+xFFFE and U+xFFFF
	}
	return false
}

func isIprivate(r rune) bool {
	return 0xe000 <= r && r <= 0xf8ff || 0xf0000 <= r && r <= 0xffffd || 0x100000 <= r && r <= 0x10fffd
}

// checkURITemplate checks s against RFC 6570, with errata 6937 (an
// apostrophe is a literal).
func checkURITemplate(s string) error {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return errors.New("unclosed expression")
			}
			if err := checkTemplateExpr(s[i+1 : i+end]); err != nil {
				return err
			}
			i += end + 1
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return errors.New("invalid percent-encoding")
			}
			i += 3
		case c < utf8.RuneSelf:
			if c <= ' ' || c == 0x7f || strings.IndexByte(`"<>\^`+"`|}", c) >= 0 {
				return fmt.Errorf("invalid character %q in literal", c)
			}
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !isUcschar(r) && !isIprivate(r) {
				return fmt.Errorf("invalid character %q in literal", r)
			}
			i += size
		}
	}
	return nil
}

func checkTemplateExpr(e string) error {
	if e != "" && strings.IndexByte("+#./;?&=,!@|", e[0]) >= 0 {
		e = e[1:]
	}
	if e == "" {
		return errors.New("empty expression")
	}
	for _, spec := range strings.Split(e, ",") {
		name := spec
		if n, ok := strings.CutSuffix(spec, "*"); ok {
			name = n
		} else if n, maxLen, ok := strings.Cut(spec, ":"); ok {
			name = n
			if len(maxLen) == 0 || len(maxLen) > 4 || maxLen[0] == '0' || strings.Trim(maxLen, "0123456789") != "" {
				return fmt.Errorf("invalid prefix length %q", maxLen)
			}
		}
		if err := checkVarname(name); err != nil {
			return err
		}
	}
	return nil
}

// checkVarname: varname = varchar *( ["."] varchar ), varchar = ALPHA / DIGIT / "_" / pct-encoded.
func checkVarname(s string) error {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return fmt.Errorf("invalid variable name %q", s)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isAlpha(c) || isDigit(c) || c == '_' || c == '.':
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			i += 2
		default:
			return fmt.Errorf("invalid variable name %q", s)
		}
	}
	return nil
}

// checkIPv4 accepts only the dotted-quad form of RFC 2673: four decimal
// octets without leading zeros.
func checkIPv4(s string) error {
	rest := s
	for i := range 4 {
		p := rest
		if i < 3 {
			var ok bool
			if p, rest, ok = strings.Cut(rest, "."); !ok {
				return errors.New("want four decimal octets")
			}
		}
		if p == "" || len(p) > 3 || (len(p) > 1 && p[0] == '0') || !allDigits(p) || atoi(p) > 255 {
			return fmt.Errorf("invalid octet %q", p)
		}
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// checkUUID accepts the RFC 4122 string form, in either case.
func checkUUID(s string) error {
	if len(s) != 36 {
		return errors.New("want 36 characters")
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return fmt.Errorf("want '-' at position %d", i+1)
			}
		default:
			if !isHex(s[i]) {
				return fmt.Errorf("non-hex character %q", s[i])
			}
		}
	}
	return nil
}

// checkDateTime checks an RFC 3339 date-time: full-date "T" full-time,
// with "t" allowed for "T" and "z" for "Z" (RFC 3339 §5.6, note).
func checkDateTime(s string) error {
	if len(s) < 20 {
		return errors.New("too short for a date-time")
	}
	if s[10] != 'T' && s[10] != 't' {
		return errors.New("want 'T' between date and time")
	}
	if err := checkDate(s[:10]); err != nil {
		return err
	}
	return checkTime(s[11:])
}

// checkDate checks an RFC 3339 full-date: YYYY-MM-DD, a day that exists.
func checkDate(s string) error {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !allDigits(s[:4]) || !allDigits(s[5:7]) || !allDigits(s[8:]) {
		return errors.New("want YYYY-MM-DD")
	}
	y, m, d := atoi(s[:4]), atoi(s[5:7]), atoi(s[8:])
	if m < 1 || m > 12 {
		return fmt.Errorf("month %d out of range", m)
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	if d < 1 || d > days {
		return fmt.Errorf("day %d out of range", d)
	}
	return nil
}

// checkTime checks an RFC 3339 full-time: hh:mm:ss, an optional fraction,
// and "Z" or a numeric offset. A leap second (:60) must fall at 23:59 UTC.
func checkTime(s string) error {
	if len(s) < 9 || s[2] != ':' || s[5] != ':' || !allDigits(s[:2]) || !allDigits(s[3:5]) || !allDigits(s[6:8]) {
		return errors.New("want hh:mm:ss and an offset")
	}
	h, m, sec := atoi(s[:2]), atoi(s[3:5]), atoi(s[6:8])
	if h > 23 || m > 59 || sec > 60 {
		return errors.New("hour, minute or second out of range")
	}
	rest := s[8:]
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		if i == 1 {
			return errors.New("no digits in the second fraction")
		}
		rest = rest[i:]
	}
	switch {
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' && allDigits(rest[1:3]) && allDigits(rest[4:]):
		oh, om := atoi(rest[1:3]), atoi(rest[4:])
		if oh > 23 || om > 59 {
			return errors.New("offset out of range")
		}
		// to UTC, for the leap second check
		mins := h*60 + m
		if rest[0] == '+' {
			mins -= oh*60 + om
		} else {
			mins += oh*60 + om
		}
		mins = (mins%(24*60) + 24*60) % (24 * 60)
		h, m = mins/60, mins%60
	default:
		return errors.New("want 'Z' or an offset like +01:00")
	}
	if sec == 60 && (h != 23 || m != 59) {
		return errors.New("leap second not at 23:59 UTC")
	}
	return nil
}

// durationRE is the grammar of RFC 3339 appendix A.
var durationRE = regexp.MustCompile(`^P(?:\d+W|(?:\d+Y(?:\d+M(?:\d+D)?)?|\d+M(?:\d+D)?|\d+D)(?:T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S))?|T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S))$`)

func checkDuration(s string) error {
	if !durationRE.MatchString(s) {
		return errors.New("not an RFC 3339 duration")
	}
	return nil
}

// checkEmail checks an RFC 5321 mailbox: a dot-atom or quoted local part,
// "@", and a hostname or an address literal.
func checkEmail(s string) error {
	if len(s) > 254 {
		return errors.New("longer than 254 bytes")
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return errors.New("no @")
	}
	local, domain := s[:at], s[at+1:]
	switch {
	case local == "":
		return errors.New("empty local part")
	case len(local) > 64:
		return errors.New("local part longer than 64 bytes")
	case local[0] == '"':
		if len(local) < 2 || local[len(local)-1] != '"' {
			return errors.New("unterminated quoted local part")
		}
		q := local[1 : len(local)-1]
		for i := 0; i < len(q); i++ {
			c := q[i]
			if c == '\\' && i+1 < len(q) {
				i++
				c = q[i]
			} else if c == '"' || c == '\\' {
				return fmt.Errorf("unescaped %q in quoted local part", c)
			}
			if c < ' ' || c > '~' {
				return fmt.Errorf("invalid character %q in quoted local part", c)
			}
		}
	default:
		for _, atom := range strings.Split(local, ".") {
			if atom == "" {
				return errors.New("empty dot-separated part in local part")
			}
			for i := 0; i < len(atom); i++ {
				if c := atom[i]; !isAlpha(c) && !isDigit(c) && strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) < 0 {
					return fmt.Errorf("invalid character %q in local part", c)
				}
			}
		}
	}
	if lit, ok := strings.CutPrefix(domain, "["); ok {
		lit, ok = strings.CutSuffix(lit, "]")
		if !ok {
			return errors.New("unterminated address literal")
		}
		if v6, ok := strings.CutPrefix(lit, "IPv6:"); ok {
			return checkIPv6(v6)
		}
		return checkIPv4(lit)
	}
	if err := checkHostname(domain); err != nil {
		return fmt.Errorf("domain: %w", err)
	}
	return nil
}

// checkHostname checks an RFC 1123 host name: dot-separated labels of
// letters, digits and inner hyphens, 63 bytes at most each, 253 in all, no
// empty label (so no leading or trailing dot). An A-label ("xn--...") must
// decode to a valid IDNA2008 U-label (see checkALabel).
func checkHostname(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	if len(s) > 253 {
		return errors.New("longer than 253 bytes")
	}
	for _, label := range strings.Split(s, ".") {
		switch {
		case label == "":
			return errors.New("empty label")
		case len(label) > 63:
			return fmt.Errorf("label %q longer than 63 bytes", clip(label, 20))
		case label[0] == '-' || label[len(label)-1] == '-':
			return fmt.Errorf("label %q starts or ends with a hyphen", label)
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlpha(c) && !isDigit(c) && c != '-' {
				if c >= utf8.RuneSelf {
					r, _ := utf8.DecodeRuneInString(label[i:])
					return fmt.Errorf("non-ASCII character %q (internationalized labels must be A-labels)", r)
				}
				return fmt.Errorf("invalid character %q", c)
			}
		}
		if len(label) >= 4 && label[2:4] == "--" && strings.EqualFold(label[:2], "xn") {
			if err := checkALabel(label); err != nil {
				return fmt.Errorf("label %q: %w", label, err)
			}
		}
	}
	return nil
}

// registration decodes an A-label and checks the U-label as RFC 5891 §4
// registers names, with Unicode's tables: Punycode, NFC, code points valid
// in UTS #46 (so no unassigned or ignorable one), the hyphen positions, no
// leading combining mark, the CONTEXTJ rules of RFC 5892 (joiners, by
// Unicode's joining types) and the Bidi rule (RFC 5893).
var registration = idna.New(idna.ValidateForRegistration())

// checkALabel checks an A-label with registration, then applies what
// golang.org/x/net/idna leaves out of IDNA2008 (it follows UTS #46, which
// is more permissive): the derivation of RFC 5892 §2 (letters, marks and
// digits that NFKC with case folding leaves alone; UTS #46 also takes the
// symbols it marks NV8), its exception lists (§2.6), and the CONTEXTO
// rules of its appendix A.
func checkALabel(label string) error {
	decoded, err := registration.ToUnicode(strings.ToLower(label))
	if err != nil {
		return err
	}
	u := []rune(decoded)
	for i, r := range u {
		switch r {
		case 0xdf, 0x3c2, 0x6fd, 0x6fe, 0xf0b, 0x3007, '-': // PVALID exceptions
			continue
		case 0x640, 0x7fa, 0x302e, 0x302f, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303b: // DISALLOWED exceptions
			return fmt.Errorf("disallowed character %U", r)
		case 0x200c, 0x200d: // CONTEXTJ: checked by registration
			continue
		case 0xb7: // MIDDLE DOT: between two 'l'
			if i == 0 || i == len(u)-1 || u[i-1] != 'l' || u[i+1] != 'l' {
				return errors.New("MIDDLE DOT not between two 'l'")
			}
			continue
		case 0x375: // GREEK LOWER NUMERAL SIGN (KERAIA): before Greek
			if i == len(u)-1 || !unicode.Is(unicode.Greek, u[i+1]) {
				return errors.New("GREEK KERAIA not followed by Greek")
			}
			continue
		case 0x5f3, 0x5f4: // HEBREW GERESH, GERSHAYIM: after Hebrew
			if i == 0 || !unicode.Is(unicode.Hebrew, u[i-1]) {
				return fmt.Errorf("%U not preceded by Hebrew", r)
			}
			continue
		case 0x30fb: // KATAKANA MIDDLE DOT: in a label with Hiragana, Katakana or Han
			if !slices.ContainsFunc(u, func(c rune) bool {
				return c != 0x30fb && (unicode.Is(unicode.Hiragana, c) || unicode.Is(unicode.Katakana, c) || unicode.Is(unicode.Han, c))
			}) {
				return errors.New("KATAKANA MIDDLE DOT without Hiragana, Katakana or Han")
			}
			continue
		}
		switch {
		case 0x660 <= r && r <= 0x669:
			if slices.ContainsFunc(u, func(c rune) bool { return 0x6f0 <= c && c <= 0x6f9 }) {
				return errors.New("Arabic-Indic digits mixed with Extended Arabic-Indic digits")
			}
		case 0x6f0 <= r && r <= 0x6f9:
			if slices.ContainsFunc(u, func(c rune) bool { return 0x660 <= c && c <= 0x669 }) {
				return errors.New("Arabic-Indic digits mixed with Extended Arabic-Indic digits")
			}
		case !unicode.In(r, unicode.Ll, unicode.Lo, unicode.Lm, unicode.Mn, unicode.Mc, unicode.Nd),
			norm.NFKC.String(string(r)) != string(r):
			return fmt.Errorf("disallowed character %U", r)
		}
	}
	return nil
}
