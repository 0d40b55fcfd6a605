import { eachDefect } from './defects';

/** The careless client's defects at PJD, Kjernejournal, SFM, PPS and across services (issue 16). */
eachDefect('service defects', (id) => !id.startsWith('HID-') && !id.startsWith('ATT-'));
