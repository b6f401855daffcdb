package store

import "testing"

// TestContainerSettledOnce: a transaction that asks for the same container
// several times, changing it in between, accounts the change once (each
// request used to add a settle record, and each record added the change).
func TestContainerSettledOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind Kind
		mk   func() Container
		// grow changes c (got by the i-th request) so that it holds more.
		grow func(c Container, i int)
	}{
		{"list", KindList, newFake, func(c Container, i int) {
			c.(*fakeList).items = append(c.(*fakeList).items, []byte("item"))
		}},
		{"hash", KindHash, newHashForTest, func(c Container, i int) {
			c.(*Hash).Set([]byte{'f', byte('0' + i)}, bs("value"), 128, 64)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(t, 1, 2)
			db := s.DB(0)
			k := bs("k")
			db.Update([][]byte{k}, func(tx *Tx) error {
				for i := 0; i < 3; i++ {
					c, err := tx.Container(k, tc.kind, tc.mk)
					if err != nil {
						return err
					}
					tc.grow(c, i)
					if r, _ := tx.ReadContainer(k, tc.kind); r.Len() != i+1 {
						t.Errorf("request %d sees %d elements", i, r.Len())
					}
				}
				return nil
			})
			checkInvariants(t, s)
			if s.UsedBytes() == 0 {
				t.Error("nothing accounted")
			}
		})
	}
}
