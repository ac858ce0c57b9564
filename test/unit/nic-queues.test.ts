import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCpuList, queueIrqCpus, queueIrqs } from '../../src/net/nic-queues.js';

const INTERRUPTS = `           CPU0       CPU1       CPU2       CPU3
  24:          1          0          0          0  IO-APIC   5-edge      ACPI:Ged
 130:     912345          0          0          0  PCI-MSIX-0000:3b:00.0    0-edge      eth1
 131:          0     801234          0          0  PCI-MSIX-0000:3b:00.0    1-edge      eth1-TxRx-0
 132:          0          0     799999          0  PCI-MSIX-0000:3b:00.0    2-edge      eth1-TxRx-1
 133:          0          0          0     811111  PCI-MSIX-0000:3b:00.0    3-edge      eth1-TxRx-2
 140:          5          0          0          0  PCI-MSIX-0000:3c:00.0    1-edge      eth10-rx-0
 141:          5          0          0          0  PCI-MSIX-0000:3c:00.0    2-edge      eth10-tx-0
`;

test('queue vectors are found by the interface name and a queue number, not by a longer name', () => {
  assert.deepEqual(
    [...queueIrqs('eth1', INTERRUPTS)],
    [
      [0, 131],
      [1, 132],
      [2, 133],
    ],
  );
  assert.deepEqual([...queueIrqs('eth10', INTERRUPTS)], [[0, 140]]);
  assert.deepEqual([...queueIrqs('veth0', INTERRUPTS)], []);
});

test('each queue gets the first CPU of its IRQ effective affinity, smp_affinity_list where there is none', () => {
  const files: Record<string, string> = {
    '/proc/interrupts': INTERRUPTS,
    '/proc/irq/131/effective_affinity_list': '1\n',
    '/proc/irq/132/effective_affinity_list': '',
    '/proc/irq/132/smp_affinity_list': '2-3\n',
    '/proc/irq/133/effective_affinity_list': '3\n',
  };
  assert.deepEqual(
    queueIrqCpus('eth1', (p) => files[p] ?? ''),
    [1, 2, 3],
  );
  assert.deepEqual(
    queueIrqCpus('veth0', (p) => files[p] ?? ''),
    [],
  );
});

test('CPU lists as the kernel writes them; null for what it never writes', () => {
  assert.deepEqual(parseCpuList('0-2,5\n'), [0, 1, 2, 5]);
  assert.deepEqual(parseCpuList('3,3'), [3]);
  for (const bad of ['', '2-1', 'a', '1,,2']) assert.equal(parseCpuList(bad), null, bad);
});
