package spider

import "slices"

// FieldNames returns the names of the fields of all item rules, each once,
// in the order they are first declared; CSV exports use them as columns.
// The page URL pseudo-field "_url" is not included.
func (s *Spider) FieldNames() []string {
	var names []string
	for _, r := range s.Items {
		for _, f := range r.Fields {
			if !slices.Contains(names, f.Name) {
				names = append(names, f.Name)
			}
		}
	}
	return names
}
