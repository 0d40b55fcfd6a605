import { extractIndexValues, searchParametersOf } from '../src/fhir/search-parameters';
const t=Date.now();
const p={resourceType:'Patient', id:'1', name:[{family:'Danser', given:['Line']}], identifier:[{system:'urn:oid:2.16.578.1.12.4.1.4.1', value:'13116900216'}], birthDate:'1969-11-13', gender:'female', address:[{city:'Bodø', postalCode:'8000'}], generalPractitioner:[{reference:'Practitioner/p1'}]};
console.log(extractIndexValues(p));
console.log(Date.now()-t);
const t2=Date.now(); for(let i=0;i<1000;i++) extractIndexValues(p); console.log('1000x', Date.now()-t2);
console.log([...searchParametersOf('Observation').keys()].join(' '));
console.log(extractIndexValues({resourceType:'Observation', subject:{reference:'Patient/1'}, effectivePeriod:{start:'2020-01-01'}, valueQuantity:{value:5, unit:'mmol/L', system:'http://unitsofmeasure.org', code:'mmol/L'}, code:{coding:[{system:'http://loinc.org', code:'123'}]}, status:'final'}));
