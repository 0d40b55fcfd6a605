import { eachDefect } from './defects';

/** The careless client's HelseID and attestation defects (issue 16: a test for every requirement). */
eachDefect('HelseID and attestation defects', (id) => id.startsWith('HID-') || id.startsWith('ATT-'));
