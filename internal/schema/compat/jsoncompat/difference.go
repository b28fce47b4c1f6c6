package jsoncompat

import (
	"strings"
)

// Difference is one change found between two schemas, named as Confluent
// Schema Registry names it.
type Difference struct {
	// Type is Confluent's name for the change, e.g. "MIN_LENGTH_INCREASED".
	Type string
	// Path is the JSON pointer of the change in Confluent's form
	// ("#/properties/age/minLength"); property names are not escaped.
	Path string
	// Old and New are the keyword's values in the writer's and the reader's
	// schema when it has one ("10" and "11"), else empty.
	Old, New string
	// Compatible reports whether the change keeps every document the
	// writer's schema accepts acceptable to the reader's, under the Rules
	// Compare was given.
	Compatible bool

	// SchemaPath is Path in the terms of the writer's schema as its author
	// wrote it: without the allOf the loader makes of a schema object that
	// mixes kinds of keywords, or the anyOf of a type array, and with
	// member names escaped (RFC 6901): "#/properties/event_type/enum" where
	// Path is "#/properties/event_type/allOf/0/enum".
	SchemaPath string
	// Field is where the change bites in the documents, as a JSON pointer
	// into them, "*" standing for any array item or any other member:
	// "/event_type", "/tags/*"; "" is the document itself.
	Field string
	// WriterOnly and ReaderOnly are, for an enum or const change, the
	// values (canonical JSON) only the writer's schema allows and those only
	// the reader's does.
	WriterOnly, ReaderOnly []string
	// Because is, for COMBINED_TYPE_SUBSCHEMAS_CHANGED, the differences
	// within the subschemas that found no compatible partner: the change
	// itself, which Confluent reports only as the mismatch.
	Because []Difference
}

// Rules choose which changes count as compatible.
type Rules uint8

const (
	// Strict is Confluent's default: an open content model (no
	// "additionalProperties": false) may already hold any property with any
	// value, so adding a property to it, or narrowing it, breaks readers.
	Strict Rules = iota
	// Lenient is Confluent's lenient mode, which assumes writers never used
	// the openness of an open content model.
	Lenient
)

// Difference types, in Confluent's words. Only the names the diff emits
// are listed; the comments on the incompatible ones say why they break a
// reader.
const (
	idChanged          = "ID_CHANGED"
	descriptionChanged = "DESCRIPTION_CHANGED"
	titleChanged       = "TITLE_CHANGED"
	defaultChanged     = "DEFAULT_CHANGED"
	schemaAdded        = "SCHEMA_ADDED"
	schemaRemoved      = "SCHEMA_REMOVED"
	typeExtended       = "TYPE_EXTENDED"
	typeNarrowed       = "TYPE_NARROWED"
	typeChanged        = "TYPE_CHANGED"

	maxLengthAdded     = "MAX_LENGTH_ADDED"
	maxLengthRemoved   = "MAX_LENGTH_REMOVED"
	maxLengthIncreased = "MAX_LENGTH_INCREASED"
	maxLengthDecreased = "MAX_LENGTH_DECREASED"
	minLengthAdded     = "MIN_LENGTH_ADDED"
	minLengthRemoved   = "MIN_LENGTH_REMOVED"
	minLengthIncreased = "MIN_LENGTH_INCREASED"
	minLengthDecreased = "MIN_LENGTH_DECREASED"
	patternAdded       = "PATTERN_ADDED"
	patternRemoved     = "PATTERN_REMOVED"
	patternChanged     = "PATTERN_CHANGED"

	maximumAdded              = "MAXIMUM_ADDED"
	maximumRemoved            = "MAXIMUM_REMOVED"
	maximumIncreased          = "MAXIMUM_INCREASED"
	maximumDecreased          = "MAXIMUM_DECREASED"
	minimumAdded              = "MINIMUM_ADDED"
	minimumRemoved            = "MINIMUM_REMOVED"
	minimumIncreased          = "MINIMUM_INCREASED"
	minimumDecreased          = "MINIMUM_DECREASED"
	exclusiveMaximumAdded     = "EXCLUSIVE_MAXIMUM_ADDED"
	exclusiveMaximumRemoved   = "EXCLUSIVE_MAXIMUM_REMOVED"
	exclusiveMaximumIncreased = "EXCLUSIVE_MAXIMUM_INCREASED"
	exclusiveMaximumDecreased = "EXCLUSIVE_MAXIMUM_DECREASED"
	exclusiveMinimumAdded     = "EXCLUSIVE_MINIMUM_ADDED"
	exclusiveMinimumRemoved   = "EXCLUSIVE_MINIMUM_REMOVED"
	exclusiveMinimumIncreased = "EXCLUSIVE_MINIMUM_INCREASED"
	exclusiveMinimumDecreased = "EXCLUSIVE_MINIMUM_DECREASED"
	multipleOfAdded           = "MULTIPLE_OF_ADDED"
	multipleOfRemoved         = "MULTIPLE_OF_REMOVED"
	multipleOfExpanded        = "MULTIPLE_OF_EXPANDED"
	multipleOfReduced         = "MULTIPLE_OF_REDUCED"
	multipleOfChanged         = "MULTIPLE_OF_CHANGED"

	requiredAttributeAdded            = "REQUIRED_ATTRIBUTE_ADDED"
	requiredAttributeWithDefaultAdded = "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"
	requiredAttributeRemoved          = "REQUIRED_ATTRIBUTE_REMOVED"
	maxPropertiesAdded                = "MAX_PROPERTIES_ADDED"
	maxPropertiesRemoved              = "MAX_PROPERTIES_REMOVED"
	maxPropertiesIncreased            = "MAX_PROPERTIES_INCREASED"
	maxPropertiesDecreased            = "MAX_PROPERTIES_DECREASED"
	minPropertiesAdded                = "MIN_PROPERTIES_ADDED"
	minPropertiesRemoved              = "MIN_PROPERTIES_REMOVED"
	minPropertiesIncreased            = "MIN_PROPERTIES_INCREASED"
	minPropertiesDecreased            = "MIN_PROPERTIES_DECREASED"
	additionalPropertiesAdded         = "ADDITIONAL_PROPERTIES_ADDED"
	additionalPropertiesRemoved       = "ADDITIONAL_PROPERTIES_REMOVED"
	additionalPropertiesExtended      = "ADDITIONAL_PROPERTIES_EXTENDED"
	additionalPropertiesNarrowed      = "ADDITIONAL_PROPERTIES_NARROWED"
	unevaluatedPropertiesAdded        = "UNEVALUATED_PROPERTIES_ADDED"
	unevaluatedPropertiesRemoved      = "UNEVALUATED_PROPERTIES_REMOVED"
	unevaluatedPropertiesExtended     = "UNEVALUATED_PROPERTIES_EXTENDED"
	unevaluatedPropertiesNarrowed     = "UNEVALUATED_PROPERTIES_NARROWED"
	dependencyArrayAdded              = "DEPENDENCY_ARRAY_ADDED"
	dependencyArrayRemoved            = "DEPENDENCY_ARRAY_REMOVED"
	dependencyArrayExtended           = "DEPENDENCY_ARRAY_EXTENDED"
	dependencyArrayNarrowed           = "DEPENDENCY_ARRAY_NARROWED"
	dependencyArrayChanged            = "DEPENDENCY_ARRAY_CHANGED"
	dependencySchemaAdded             = "DEPENDENCY_SCHEMA_ADDED"
	dependencySchemaRemoved           = "DEPENDENCY_SCHEMA_REMOVED"

	propertyWithEmptySchemaAddedToOpen       = "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
	requiredPropertyAddedToOpen              = "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
	requiredPropertyWithDefaultAddedToOpen   = "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL"
	optionalPropertyAddedToOpen              = "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
	requiredPropertyAddedToUnopen            = "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
	requiredPropertyWithDefaultAddedToUnopen = "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL"
	optionalPropertyAddedToUnopen            = "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
	propertyRemovedFromOpen                  = "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL"
	propertyWithFalseRemovedFromClosed       = "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"
	propertyRemovedFromClosed                = "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"
	propertyRemovedIsCovered                 = "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
	propertyRemovedNotCovered                = "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
	propertyAddedIsCovered                   = "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
	propertyAddedNotCovered                  = "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"

	maxItemsAdded                  = "MAX_ITEMS_ADDED"
	maxItemsRemoved                = "MAX_ITEMS_REMOVED"
	maxItemsIncreased              = "MAX_ITEMS_INCREASED"
	maxItemsDecreased              = "MAX_ITEMS_DECREASED"
	minItemsAdded                  = "MIN_ITEMS_ADDED"
	minItemsRemoved                = "MIN_ITEMS_REMOVED"
	minItemsIncreased              = "MIN_ITEMS_INCREASED"
	minItemsDecreased              = "MIN_ITEMS_DECREASED"
	uniqueItemsAdded               = "UNIQUE_ITEMS_ADDED"
	uniqueItemsRemoved             = "UNIQUE_ITEMS_REMOVED"
	additionalItemsAdded           = "ADDITIONAL_ITEMS_ADDED"
	additionalItemsRemoved         = "ADDITIONAL_ITEMS_REMOVED"
	additionalItemsExtended        = "ADDITIONAL_ITEMS_EXTENDED"
	additionalItemsNarrowed        = "ADDITIONAL_ITEMS_NARROWED"
	unevaluatedItemsAdded          = "UNEVALUATED_ITEMS_ADDED"
	unevaluatedItemsRemoved        = "UNEVALUATED_ITEMS_REMOVED"
	unevaluatedItemsExtended       = "UNEVALUATED_ITEMS_EXTENDED"
	unevaluatedItemsNarrowed       = "UNEVALUATED_ITEMS_NARROWED"
	minContainsAdded               = "MIN_CONTAINS_ADDED"
	minContainsRemoved             = "MIN_CONTAINS_REMOVED"
	minContainsIncreased           = "MIN_CONTAINS_INCREASED"
	minContainsDecreased           = "MIN_CONTAINS_DECREASED"
	maxContainsAdded               = "MAX_CONTAINS_ADDED"
	maxContainsRemoved             = "MAX_CONTAINS_REMOVED"
	maxContainsIncreased           = "MAX_CONTAINS_INCREASED"
	maxContainsDecreased           = "MAX_CONTAINS_DECREASED"
	itemAddedToOpen                = "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"
	itemWithEmptySchemaAddedToOpen = "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
	itemAddedToClosed              = "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL"
	itemRemovedFromOpen            = "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL"
	itemWithFalseRemovedFromClosed = "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"
	itemRemovedFromClosed          = "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"
	itemRemovedIsCovered           = "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
	itemRemovedNotCovered          = "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
	itemAddedIsCovered             = "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
	itemAddedNotCovered            = "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"

	enumArrayExtended = "ENUM_ARRAY_EXTENDED"
	enumArrayNarrowed = "ENUM_ARRAY_NARROWED"
	enumArrayChanged  = "ENUM_ARRAY_CHANGED"

	combinedTypeExtended          = "COMBINED_TYPE_EXTENDED"
	combinedTypeChanged           = "COMBINED_TYPE_CHANGED"
	productTypeExtended           = "PRODUCT_TYPE_EXTENDED"
	productTypeNarrowed           = "PRODUCT_TYPE_NARROWED"
	sumTypeExtended               = "SUM_TYPE_EXTENDED"
	sumTypeNarrowed               = "SUM_TYPE_NARROWED"
	combinedTypeSubschemasChanged = "COMBINED_TYPE_SUBSCHEMAS_CHANGED"
	notTypeExtended               = "NOT_TYPE_EXTENDED"
	notTypeNarrowed               = "NOT_TYPE_NARROWED"

	// SchemaTooComplex is ours: the comparison gave up (see maxCompares)
	// and cannot vouch for compatibility.
	SchemaTooComplex = "SCHEMA_TOO_COMPLEX"
)

// compatibleStrict is Confluent's SchemaDiff.COMPATIBLE_CHANGES, plus the
// contains and unevaluated changes that relax what a reader accepts.
var compatibleStrict = set(
	idChanged, descriptionChanged, titleChanged, defaultChanged, schemaRemoved, typeExtended,
	maxLengthIncreased, maxLengthRemoved, minLengthDecreased, minLengthRemoved, patternRemoved,
	maximumIncreased, maximumRemoved, minimumDecreased, minimumRemoved,
	exclusiveMaximumIncreased, exclusiveMaximumRemoved, exclusiveMinimumDecreased, exclusiveMinimumRemoved,
	multipleOfReduced, multipleOfRemoved,
	requiredAttributeWithDefaultAdded, requiredAttributeRemoved,
	dependencyArrayNarrowed, dependencyArrayRemoved, dependencySchemaRemoved,
	maxPropertiesIncreased, maxPropertiesRemoved, minPropertiesDecreased, minPropertiesRemoved,
	additionalPropertiesAdded, additionalPropertiesExtended,
	unevaluatedPropertiesAdded, unevaluatedPropertiesExtended,
	propertyWithEmptySchemaAddedToOpen, requiredPropertyWithDefaultAddedToUnopen, optionalPropertyAddedToUnopen,
	propertyWithFalseRemovedFromClosed, propertyRemovedFromOpen, propertyAddedIsCovered, propertyRemovedIsCovered,
	maxItemsIncreased, maxItemsRemoved, minItemsDecreased, minItemsRemoved, uniqueItemsRemoved,
	additionalItemsAdded, additionalItemsExtended, unevaluatedItemsAdded, unevaluatedItemsExtended,
	minContainsDecreased, minContainsRemoved, maxContainsIncreased, maxContainsRemoved,
	itemWithEmptySchemaAddedToOpen, itemAddedToClosed, itemWithFalseRemovedFromClosed, itemRemovedFromOpen,
	itemAddedIsCovered, itemRemovedIsCovered,
	enumArrayExtended,
	combinedTypeExtended, productTypeNarrowed, sumTypeExtended, notTypeNarrowed,
)

// compatibleLenient adds what Confluent's lenient mode forgives: changes
// that only break a reader if a writer used the openness of an open model.
var compatibleLenient = union(compatibleStrict, set(
	additionalPropertiesNarrowed, additionalPropertiesRemoved,
	optionalPropertyAddedToOpen, requiredPropertyWithDefaultAddedToOpen,
	propertyAddedNotCovered, propertyRemovedNotCovered,
))

func set(types ...string) map[string]bool {
	m := make(map[string]bool, len(types))
	for _, t := range types {
		m[t] = true
	}
	return m
}

func union(a, b map[string]bool) map[string]bool {
	m := make(map[string]bool, len(a)+len(b))
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

func (r Rules) compatible(t string) bool {
	if r == Lenient {
		return compatibleLenient[t]
	}
	return compatibleStrict[t]
}

// explanations say what each change means for a reader of documents that
// the writer's schema accepts. {w} and {r} stand for the names of the
// writer's and the reader's schemas, {old} and {new} for the keyword's
// values in them. They are worded without before and after, since in a
// FORWARD check the writer's schema is the newer one.
var explanations = map[string]string{
	idChanged:          "$id is {old} in {w} and {new} in {r}; documents are unaffected",
	descriptionChanged: "the description differs; documents are unaffected",
	titleChanged:       "the title differs; documents are unaffected",
	defaultChanged:     "the default is {old} in {w} and {new} in {r}; documents are unaffected",
	schemaAdded:        "{r} has a schema here and {w} has none: documents {w} accepts may not satisfy it",
	schemaRemoved:      "{w} has a schema here and {r} has none: anything is accepted",
	typeExtended:       "{r} accepts any number where {w} requires an integer",
	typeNarrowed:       "{r} requires an integer where {w} accepts any number: a value such as 1.5 is refused",
	typeChanged:        "the type is {old} in {w} and {new} in {r}: values {w} accepts are refused",

	maxLengthAdded:     "{r} sets maxLength {new} and {w} sets none: longer strings {w} accepts are refused",
	maxLengthRemoved:   "{w} sets maxLength {old} and {r} sets none",
	maxLengthIncreased: "maxLength is {old} in {w} and {new} in {r}",
	maxLengthDecreased: "maxLength is {old} in {w} and {new} in {r}: strings of up to {old} characters that {w} accepts are refused",
	minLengthAdded:     "{r} sets minLength {new} and {w} sets none: shorter strings {w} accepts are refused",
	minLengthRemoved:   "{w} sets minLength {old} and {r} sets none",
	minLengthIncreased: "minLength is {old} in {w} and {new} in {r}: strings of {old} characters that {w} accepts are refused",
	minLengthDecreased: "minLength is {old} in {w} and {new} in {r}",
	patternAdded:       "{r} sets the pattern {new} and {w} sets none: strings {w} accepts may not match it",
	patternRemoved:     "{w} sets the pattern {old} and {r} sets none",
	patternChanged:     "the pattern is {old} in {w} and {new} in {r}: strings matching one may not match the other",

	maximumAdded:              "{r} sets maximum {new} and {w} sets none: larger numbers {w} accepts are refused",
	maximumRemoved:            "{w} sets maximum {old} and {r} sets none",
	maximumIncreased:          "maximum is {old} in {w} and {new} in {r}",
	maximumDecreased:          "maximum is {old} in {w} and {new} in {r}: numbers up to {old} that {w} accepts are refused",
	minimumAdded:              "{r} sets minimum {new} and {w} sets none: smaller numbers {w} accepts are refused",
	minimumRemoved:            "{w} sets minimum {old} and {r} sets none",
	minimumIncreased:          "minimum is {old} in {w} and {new} in {r}: numbers down to {old} that {w} accepts are refused",
	minimumDecreased:          "minimum is {old} in {w} and {new} in {r}",
	exclusiveMaximumAdded:     "{r} sets exclusiveMaximum {new} and {w} sets none: larger numbers {w} accepts are refused",
	exclusiveMaximumRemoved:   "{w} sets exclusiveMaximum {old} and {r} sets none",
	exclusiveMaximumIncreased: "exclusiveMaximum is {old} in {w} and {new} in {r}",
	exclusiveMaximumDecreased: "exclusiveMaximum is {old} in {w} and {new} in {r}: numbers {w} accepts are refused",
	exclusiveMinimumAdded:     "{r} sets exclusiveMinimum {new} and {w} sets none: smaller numbers {w} accepts are refused",
	exclusiveMinimumRemoved:   "{w} sets exclusiveMinimum {old} and {r} sets none",
	exclusiveMinimumIncreased: "exclusiveMinimum is {old} in {w} and {new} in {r}: numbers {w} accepts are refused",
	exclusiveMinimumDecreased: "exclusiveMinimum is {old} in {w} and {new} in {r}",
	multipleOfAdded:           "{r} sets multipleOf {new} and {w} sets none: numbers {w} accepts may not be multiples of it",
	multipleOfRemoved:         "{w} sets multipleOf {old} and {r} sets none",
	multipleOfExpanded:        "multipleOf is {old} in {w} and {new} in {r}: multiples of {old} that are not multiples of {new} are refused",
	multipleOfReduced:         "multipleOf is {old} in {w} and {new}, a divisor of it, in {r}: every multiple of {old} passes",
	multipleOfChanged:         "multipleOf is {old} in {w} and {new} in {r}: multiples of {old} may not be multiples of {new}",

	requiredAttributeAdded:            "{r} requires the property, with no default, and {w} does not: documents {w} accepts without it are refused",
	requiredAttributeWithDefaultAdded: "{r} requires the property and {w} does not; {r} gives it a default",
	requiredAttributeRemoved:          "{w} requires the property and {r} does not",
	maxPropertiesAdded:                "{r} sets maxProperties {new} and {w} sets none: objects with more properties are refused",
	maxPropertiesRemoved:              "{w} sets maxProperties {old} and {r} sets none",
	maxPropertiesIncreased:            "maxProperties is {old} in {w} and {new} in {r}",
	maxPropertiesDecreased:            "maxProperties is {old} in {w} and {new} in {r}: objects with up to {old} properties that {w} accepts are refused",
	minPropertiesAdded:                "{r} sets minProperties {new} and {w} sets none: objects with fewer properties are refused",
	minPropertiesRemoved:              "{w} sets minProperties {old} and {r} sets none",
	minPropertiesIncreased:            "minProperties is {old} in {w} and {new} in {r}: objects {w} accepts are refused",
	minPropertiesDecreased:            "minProperties is {old} in {w} and {new} in {r}",
	additionalPropertiesAdded:         "{r} allows additional properties and {w} forbids them",
	additionalPropertiesRemoved:       "{r} forbids additional properties (additionalProperties: false) and {w} allows them: undeclared properties {w} accepts are refused",
	additionalPropertiesExtended:      "{w} gives additional properties a schema and {r} accepts any value",
	additionalPropertiesNarrowed:      "{r} gives additional properties a schema and {w} accepts any value: undeclared properties {w} accepts may not satisfy it",
	unevaluatedPropertiesAdded:        "{r} accepts unevaluated properties and {w} forbids them",
	unevaluatedPropertiesRemoved:      "{r} forbids unevaluated properties and {w} does not: properties {w} accepts are refused",
	unevaluatedPropertiesExtended:     "{r} accepts any unevaluated property and {w} constrains them",
	unevaluatedPropertiesNarrowed:     "{r} constrains unevaluated properties and {w} accepts any",
	dependencyArrayAdded:              "{r} has a property dependency ({new}) that {w} lacks: documents {w} accepts may lack the properties it requires",
	dependencyArrayRemoved:            "{w} has a property dependency ({old}) that {r} lacks",
	dependencyArrayExtended:           "the property requires {old} alongside it in {w} and {new} in {r}: documents {w} accepts may lack the extra ones",
	dependencyArrayNarrowed:           "the property requires {old} alongside it in {w} and only {new} in {r}",
	dependencyArrayChanged:            "the property requires {old} alongside it in {w} and {new} in {r}: documents {w} accepts may lack them",
	dependencySchemaAdded:             "{r} has a schema dependency that {w} lacks: documents {w} accepts may not satisfy it",
	dependencySchemaRemoved:           "{w} has a schema dependency that {r} lacks",

	propertyWithEmptySchemaAddedToOpen:       "{r} declares the property with an empty schema, which accepts any value",
	requiredPropertyAddedToOpen:              "{r} declares and requires the property, which {w} does not declare: documents {w} accepts need not contain it",
	requiredPropertyWithDefaultAddedToOpen:   "{r} declares and requires the property with a default; {w} has an open content model, so documents may hold the property with a value of another type",
	optionalPropertyAddedToOpen:              "{r} declares the property and {w} does not; {w} has an open content model (no additionalProperties: false), so documents may hold the property with a value of another type",
	requiredPropertyAddedToUnopen:            "{r} declares and requires the property, with no default, and {w} does not declare it: documents {w} accepts do not contain it",
	requiredPropertyWithDefaultAddedToUnopen: "{r} declares and requires the property with a default, and {w} does not declare it",
	optionalPropertyAddedToUnopen:            "{r} declares an optional property that {w}'s closed content model does not allow",
	propertyRemovedFromOpen:                  "{w} declares the property and {r} does not; {r}'s open content model accepts it",
	propertyWithFalseRemovedFromClosed:       "{w} forbids the property (false) and {r} does not declare it",
	propertyRemovedFromClosed:                "{w} declares the property and {r} does not, and {r}'s content model is closed: documents {w} accepts with it are refused",
	propertyRemovedIsCovered:                 "{w} declares the property and {r} does not; {r}'s additionalProperties or patternProperties accept its values",
	propertyRemovedNotCovered:                "{w} declares the property and {r} does not; {r}'s additionalProperties or patternProperties refuse values {w} accepts",
	propertyAddedIsCovered:                   "{r} declares the property with a schema that accepts what {w}'s additionalProperties or patternProperties allow",
	propertyAddedNotCovered:                  "{r} declares the property with a schema that refuses values {w}'s additionalProperties or patternProperties allow",

	maxItemsAdded:                  "{r} sets maxItems {new} and {w} sets none: longer arrays {w} accepts are refused",
	maxItemsRemoved:                "{w} sets maxItems {old} and {r} sets none",
	maxItemsIncreased:              "maxItems is {old} in {w} and {new} in {r}",
	maxItemsDecreased:              "maxItems is {old} in {w} and {new} in {r}: arrays of up to {old} items that {w} accepts are refused",
	minItemsAdded:                  "{r} sets minItems {new} and {w} sets none: shorter arrays {w} accepts are refused",
	minItemsRemoved:                "{w} sets minItems {old} and {r} sets none",
	minItemsIncreased:              "minItems is {old} in {w} and {new} in {r}: arrays of {old} items that {w} accepts are refused",
	minItemsDecreased:              "minItems is {old} in {w} and {new} in {r}",
	uniqueItemsAdded:               "{r} requires unique items and {w} does not: arrays with duplicates that {w} accepts are refused",
	uniqueItemsRemoved:             "{w} requires unique items and {r} does not",
	additionalItemsAdded:           "{r} allows items beyond the tuple and {w} forbids them",
	additionalItemsRemoved:         "{r} forbids items beyond the tuple and {w} allows them: longer arrays {w} accepts are refused",
	additionalItemsExtended:        "{w} gives items beyond the tuple a schema and {r} accepts any value",
	additionalItemsNarrowed:        "{r} gives items beyond the tuple a schema and {w} accepts any value",
	unevaluatedItemsAdded:          "{r} accepts unevaluated items and {w} forbids them",
	unevaluatedItemsRemoved:        "{r} forbids unevaluated items and {w} does not: arrays {w} accepts are refused",
	unevaluatedItemsExtended:       "{r} accepts any unevaluated item and {w} constrains them",
	unevaluatedItemsNarrowed:       "{r} constrains unevaluated items and {w} accepts any",
	minContainsAdded:               "{r} sets minContains {new} and {w} sets none: arrays {w} accepts may hold fewer matching items",
	minContainsRemoved:             "{w} sets minContains {old} and {r} sets none",
	minContainsIncreased:           "minContains is {old} in {w} and {new} in {r}: arrays {w} accepts may hold fewer matching items",
	minContainsDecreased:           "minContains is {old} in {w} and {new} in {r}",
	maxContainsAdded:               "{r} sets maxContains {new} and {w} sets none: arrays {w} accepts may hold more matching items",
	maxContainsRemoved:             "{w} sets maxContains {old} and {r} sets none",
	maxContainsIncreased:           "maxContains is {old} in {w} and {new} in {r}",
	maxContainsDecreased:           "maxContains is {old} in {w} and {new} in {r}: arrays {w} accepts may hold more matching items",
	itemAddedToOpen:                "{r} constrains this tuple position, where {w} accepts any value",
	itemWithEmptySchemaAddedToOpen: "{r} gives this tuple position an empty schema, which accepts any value",
	itemAddedToClosed:              "{r} allows this tuple position, which {w} does not",
	itemRemovedFromOpen:            "{w} constrains this tuple position and {r} accepts any value in it",
	itemWithFalseRemovedFromClosed: "{w} forbids this tuple position (false) and {r} does not declare it",
	itemRemovedFromClosed:          "{w} has this tuple position and {r} forbids items beyond its tuple: arrays {w} accepts are refused",
	itemRemovedIsCovered:           "{w} has this tuple position and {r} does not; {r}'s schema for further items accepts its values",
	itemRemovedNotCovered:          "{w} has this tuple position and {r} does not; {r}'s schema for further items refuses values {w} accepts",
	itemAddedIsCovered:             "{r} has this tuple position with a schema that accepts what {w}'s schema for further items allows",
	itemAddedNotCovered:            "{r} has this tuple position with a schema that refuses values {w}'s schema for further items allows",

	enumArrayExtended: "the allowed values are {old} in {w} and {new} in {r}, which has them all",
	enumArrayNarrowed: "the allowed values are {old} in {w} and {new} in {r}: documents with the others are refused",
	enumArrayChanged:  "the allowed values are {old} in {w} and {new} in {r}: values {w} accepts are refused",

	combinedTypeExtended:          "the combination is {old} in {w} and {new} in {r}, which accepts at least as much",
	combinedTypeChanged:           "the combination is {old} in {w} and {new} in {r}: documents {w} accepts may be refused",
	productTypeExtended:           "the allOf has {old} subschemas in {w} and {new} in {r}: documents {w} accepts may fail the others",
	productTypeNarrowed:           "{r} requires fewer of {w}'s subschemas",
	sumTypeExtended:               "{r} offers more alternatives than {w}",
	sumTypeNarrowed:               "the anyOf/oneOf has {old} alternatives in {w} and {new} in {r}: documents matching a missing one are refused",
	combinedTypeSubschemasChanged: "some subschema of {w} has no compatible counterpart among {r}'s",
	notTypeExtended:               "{r}'s not excludes documents that {w}'s does not",
	notTypeNarrowed:               "{r}'s not excludes less than {w}'s",

	SchemaTooComplex: "the schemas are too large or too recursive to compare within the limits: compatibility cannot be established",
}

// Explain says what d means for a reader of documents the writer's schema
// accepts, naming the two schemas writer and reader ("version 2", "the new
// schema").
func (d Difference) Explain(writer, reader string) string {
	tmpl, ok := explanations[d.Type]
	if !ok {
		tmpl = strings.ToLower(strings.ReplaceAll(d.Type, "_", " "))
	}
	old, nw := d.Old, d.New
	if old == "" {
		old = "none"
	}
	if nw == "" {
		nw = "none"
	}
	return strings.NewReplacer("{w}", writer, "{r}", reader, "{old}", old, "{new}", nw).Replace(tmpl)
}
