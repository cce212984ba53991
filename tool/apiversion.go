package tool

// APIVersion is one api-version of the entitlement endpoint and the shape of
// its answer.
type APIVersion struct {
	// Name is the query value, e.g. "2017-09-01.6.0".
	Name string
	// VMID is true for the versions whose 200 carries "vmid" (5.0 and 5.1);
	// the others carry "expiry".
	VMID bool
	// Lease is true for the emulator's leasing version.
	Lease bool
}

// LeaseAPIVersion is the emulator's own leasing api-version; production never
// offered it.
const LeaseAPIVersion = "9999-09-09.99.99"

// DefaultAPIVersion is the api-version a client asks with unless told.
const DefaultAPIVersion = "2017-09-01.6.0"

// APIVersions lists every api-version the endpoint answers, oldest first:
// the published Batch API versions (there is no 13.0), then leasing.
var APIVersions = []APIVersion{
	{Name: "2017-05-01.5.0", VMID: true},
	{Name: "2017-06-01.5.1", VMID: true},
	{Name: "2017-09-01.6.0"},
	{Name: "2018-03-01.6.1"},
	{Name: "2018-08-01.7.0"},
	{Name: "2018-12-01.8.0"},
	{Name: "2019-06-01.9.0"},
	{Name: "2019-08-01.10.0"},
	{Name: "2020-03-01.11.0"},
	{Name: "2020-09-01.12.0"},
	{Name: "2021-06-01.14.0"},
	{Name: "2022-01-01.15.0"},
	{Name: "2022-10-01.16.0"},
	{Name: "2023-05-01.17.0"},
	{Name: "2023-11-01.18.0"},
	{Name: "2024-02-01.19.0"},
	{Name: "2024-07-01.20.0"},
	{Name: "2025-06-01"},
	{Name: LeaseAPIVersion, Lease: true},
}

// LookupAPIVersion finds an api-version by its exact name.
func LookupAPIVersion(name string) (APIVersion, bool) {
	for _, v := range APIVersions {
		if v.Name == name {
			return v, true
		}
	}
	return APIVersion{}, false
}
