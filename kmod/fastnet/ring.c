// SPDX-License-Identifier: GPL-2.0
/*
 * fastnet: the RING mode's slots. The ring is order-0 pages, each with its struct page, mapped
 * into the kernel with vmap() and into the process with vm_map_pages(), never
 * remap_pfn_range(): the same pages are handed to a NIC in ZC mode (zc.c), which allocates its
 * ring here too, one page per slot.
 *
 * Ownership of a slot moves with its status word (see fastnet_uapi.h): the producer here reads
 * it with smp_load_acquire() before writing the slot, so the process's reads of the frame are
 * done before it is overwritten, and publishes a filled slot with smp_store_release(), so the
 * process sees the frame once it sees READY.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "fastnet.h"

size_t fastnet_ring_bytes(const struct fastnet_ring *ring)
{
	return (size_t)ring->npages << PAGE_SHIFT;
}

void fastnet_ring_free(struct fastnet_ring *ring)
{
	unsigned int i;

	if (ring->zc)
		fastnet_zc_free(ring);
	if (ring->base)
		vunmap(ring->base);
	/* A process that still maps the ring holds its own references: those pages stay. */
	for (i = 0; i < ring->npages; i++)
		if (ring->pages[i])
			put_page(ring->pages[i]);
	kvfree(ring->pages);
	kfree(ring);
}

/*
 * slot_count slots of slot_size bytes (FASTNET_SLOT_SIZE, or PAGE_SIZE for ZC), the frame at
 * frame_offset in each.
 */
struct fastnet_ring *fastnet_ring_alloc(u32 slot_count, u32 slot_size, u32 frame_offset)
{
	size_t bytes = PAGE_ALIGN((size_t)slot_count * slot_size);
	struct fastnet_ring *ring;
	unsigned int i;

	/* Slots never straddle a page. */
	BUILD_BUG_ON(PAGE_SIZE % FASTNET_SLOT_SIZE);
	BUILD_BUG_ON(sizeof(struct fastnet_slot) > FASTNET_SLOT_FRAME_OFFSET);
	if (PAGE_SIZE % slot_size || frame_offset < sizeof(struct fastnet_slot) ||
	    frame_offset >= slot_size)
		return NULL;
	ring = kzalloc(sizeof(*ring), GFP_KERNEL);
	if (!ring)
		return NULL;
	spin_lock_init(&ring->lock);
	ring->slot_count = slot_count;
	ring->slot_size = slot_size;
	ring->frame_offset = frame_offset;
	ring->max_frame = slot_size - frame_offset;
	ring->npages = bytes >> PAGE_SHIFT;
	ring->pages = kvcalloc(ring->npages, sizeof(*ring->pages), GFP_KERNEL);
	if (!ring->pages)
		goto fail;
	for (i = 0; i < ring->npages; i++) {
		/* Zeroed: every slot starts FREE, and no old data reaches the process. */
		ring->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN);
		if (!ring->pages[i])
			goto fail;
	}
	ring->base = vmap(ring->pages, ring->npages, VM_MAP, PAGE_KERNEL);
	if (!ring->base)
		goto fail;
	return ring;
fail:
	fastnet_ring_free(ring);
	return NULL;
}

static struct page *fastnet_slot_page(const struct fastnet_ring *ring, u32 i)
{
	return ring->pages[((size_t)i * ring->slot_size) >> PAGE_SHIFT];
}

/*
 * Copies the frame into the next slot if the process has handed it back, else counts a drop.
 * The skb is freed either way. Softirq, any CPU. True when a slot was filled.
 */
bool fastnet_ring_produce(struct fastnet_file *f, struct fastnet_ring *ring,
			  struct sk_buff *skb)
{
	u32 wire_len = fastnet_wire_len(skb);
	u32 len = min_t(u32, wire_len, ring->max_frame);
	struct fastnet_slot *slot;
	u32 head, flags = 0;

	spin_lock(&ring->lock);
	head = ring->head;
	slot = fastnet_slot(ring, head);
	/* Acquire: the process's reads of this slot are done before we write it again. */
	if (smp_load_acquire(&slot->status) != FASTNET_SLOT_FREE) {
		spin_unlock(&ring->lock);
		fastnet_drop(f, skb, true);
		return false;
	}
	if (fastnet_copy_wire(skb, (u8 *)slot + ring->frame_offset, len)) {
		spin_unlock(&ring->lock);
		fastnet_drop(f, skb, false);
		return false;
	}
	if (wire_len != skb->len)
		flags |= FASTNET_FRAME_VLAN;
	if (len < wire_len)
		flags |= FASTNET_FRAME_TRUNCATED;
	slot->len = len;
	slot->wire_len = wire_len;
	slot->flags = flags;
	flush_dcache_page(fastnet_slot_page(ring, head));
	/*
	 * Counted before READY is published: a process that has seen the slot finds it in
	 * delivered, so it never has read more than delivered says, and one that has read as many
	 * as delivered has read every published slot. Until the store below, delivered counts a
	 * slot that is not READY yet: to look into a slot, wait for READY, not for the count.
	 */
	if (flags & FASTNET_FRAME_TRUNCATED)
		atomic64_inc(&f->stats.truncated);
	atomic64_inc(&f->stats.delivered);
	/* Release: the frame, its lengths and its counts are visible before READY is. */
	smp_store_release(&slot->status, FASTNET_SLOT_READY);
	WRITE_ONCE(ring->head, head + 1 == ring->slot_count ? 0 : head + 1);
	spin_unlock(&ring->lock);

	consume_skb(skb);
	return true;
}

/*
 * Whether the process has a slot to read. Slots are filled and read in order, so there is one
 * exactly when the most recently filled slot is still READY. Lockless: a stale head only
 * delays the answer until the producer's wake-up.
 */
bool fastnet_ring_readable(const struct fastnet_ring *ring)
{
	u32 head = READ_ONCE(ring->head);
	u32 last = head ? head - 1 : ring->slot_count - 1;

	/* Acquire, as the process reads it: pairs with the producer's release. */
	return smp_load_acquire(&fastnet_slot(ring, last)->status) == FASTNET_SLOT_READY;
}

/*
 * Maps the whole ring, from offset 0, shared (a private copy could never hand a slot back);
 * only in RING and ZC modes. As for AF_PACKET's ring, the vma gets no fault handler: every page is
 * inserted here (vm_insert_page() marks it VM_MIXEDMAP).
 */
int fastnet_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct fastnet_file *f = file->private_data;
	struct fastnet_ring *ring;
	int err = -EINVAL;

	mutex_lock(&f->lock);
	ring = rcu_dereference_protected(f->ring, lockdep_is_held(&f->lock));
	if (ring && vma->vm_pgoff == 0 && (vma->vm_flags & VM_SHARED) &&
	    vma->vm_end - vma->vm_start == fastnet_ring_bytes(ring)) {
		err = vm_map_pages(vma, ring->pages, ring->npages);
	}
	mutex_unlock(&f->lock);
	return err;
}
