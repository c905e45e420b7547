console.log('styleset: not implemented yet');
